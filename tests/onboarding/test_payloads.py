"""The verified record on ``out_sms_queue`` reads as the other queue payloads do."""

import orjson

from apps.onboarding.payloads import VerifiedRecord

RECORD = VerifiedRecord(
    sms_uuid="0b7d3c3e-8f6a-4d8e-9a51-2f4e6c1d9b10",
    mobile="9876543210",
    country_code="91",
    sender_number="+919876543210",
    sms_message="ONBOARD:" + "a" * 64,
    gateway_id="5a0c8e55-7d4b-4b8e-8f43-0d5b8f2c6e21",
    received_at="2026-12-01T07:38:09+00:00",
    verified_at=1796110690.0,
    registration_id="7e57a1d2-0c4b-4f8e-9d3a-1b2c3d4e5f60",
    client_id="c1",
    reference="acct-42",
)


def test_a_record_survives_the_round_trip():
    assert VerifiedRecord.from_json(RECORD.to_json()) == RECORD


def test_fields_of_a_newer_writer_are_ignored():
    newer = orjson.loads(RECORD.to_json()) | {"v": 3, "operator": "unknown to this version"}

    assert VerifiedRecord.from_json(orjson.dumps(newer)) == RECORD
