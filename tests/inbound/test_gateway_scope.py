"""A scoped gateway delivers only SMS from its countries, sent to its receiving number."""

import json

import pytest

from apps.core import keys
from apps.core.redis import get_redis
from tests.helpers import (
    android_headers,
    jasmin_params,
    now_iso,
    send_jasmin,
    send_native,
    send_twilio,
    twilio_params,
)

pytestmark = pytest.mark.django_db

BODY = "ONBOARD:" + "a" * 64
RECEIVING = "+919000000001"


def queued() -> int:
    return get_redis().llen(keys.sms_inbound_queue())


def android_event(sms_fields: dict, event_id: str = "evt-1") -> bytes:
    payload = {"messageId": "abc123", "message": BODY, "simNumber": 1, "receivedAt": now_iso(), **sms_fields}
    return json.dumps(
        {"deviceId": "dev-1", "event": "sms:received", "id": event_id, "payload": payload}
    ).encode()


def post_android(api, gateway, raw: bytes):
    headers = android_headers(gateway.secret, raw)
    return api.post(f"/sms/receive/android/{gateway.id}", raw, content_type="application/json", **headers)


def queued_senders() -> list[str]:
    return [json.loads(item)["sender_number"] for item in get_redis().lrange(keys.sms_inbound_queue(), 0, -1)]


def test_a_sender_from_another_country_is_refused_with_403_and_nothing_queued(api, make_gateway):
    gateway = make_gateway("native", countries=[91])

    refused = send_native(api, gateway.secret, "+447911123456", BODY, message_id="uk")
    allowed = send_native(api, gateway.secret, "+919876543210", BODY, message_id="in")

    assert refused.status_code == 403
    assert refused.json() == {"detail": refused.json()["detail"], "code": "sender_out_of_scope"}
    assert allowed.status_code == 202
    assert queued_senders() == ["+919876543210"]


def test_a_gateway_without_countries_takes_any_sender(api, make_gateway):
    gateway = make_gateway("native")

    assert send_native(api, gateway.secret, "+447911123456", BODY).status_code == 202


def test_a_sender_whose_country_cannot_be_told_is_refused_by_a_scoped_gateway(api, make_gateway):
    gateway = make_gateway("native", countries=["91", "44"])

    response = send_native(api, gateway.secret, "not-a-number", BODY)

    assert response.status_code == 403
    assert queued() == 0


def test_twilio_refuses_an_sms_to_another_number(api, make_gateway):
    gateway = make_gateway("twilio", receiving_number="+91 90000 00001")
    params = twilio_params("+919876543210", BODY)  # To is +919000000000

    response = send_twilio(api, gateway, "+919876543210", BODY)

    assert params["To"] != RECEIVING
    assert response.status_code == 403
    assert response.json()["code"] == "recipient_out_of_scope"
    assert queued() == 0


def test_twilio_accepts_an_sms_to_its_receiving_number(api, make_gateway):
    gateway = make_gateway("twilio", receiving_number="+919000000000")

    assert send_twilio(api, gateway, "+919876543210", BODY).status_code == 200
    assert queued() == 1


def test_jasmin_compares_the_receiving_number_in_any_format(api, make_gateway):
    gateway = make_gateway("jasmin", receiving_number="09000000000")  # national form, home region

    assert jasmin_params("+919876543210", BODY)["to"] == "9000000000"
    assert send_jasmin(api, gateway, "+919876543210", BODY).status_code == 200

    other = make_gateway("jasmin", receiving_number=RECEIVING)
    assert send_jasmin(api, other, "+919876543210", BODY, message_id="m-2").status_code == 403
    assert queued() == 1


def test_android_reads_sender_and_checks_recipient(api, make_gateway):
    gateway = make_gateway("android", receiving_number=RECEIVING)

    ok = post_android(api, gateway, android_event({"sender": "+919876543210", "recipient": RECEIVING}))
    wrong = post_android(
        api, gateway, android_event({"sender": "+919876543211", "recipient": "+919000000002"}, "evt-2")
    )

    assert ok.status_code == 202
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "recipient_out_of_scope"
    assert queued_senders() == ["+919876543210"]


def test_android_accepts_the_deprecated_phone_number_field(api, make_gateway):
    gateway = make_gateway("android", receiving_number=RECEIVING)

    # Older app versions send only phoneNumber and no recipient: nothing to compare.
    response = post_android(api, gateway, android_event({"phoneNumber": "+919876543210"}))

    assert response.status_code == 202
    assert queued_senders() == ["+919876543210"]


def test_android_prefers_sender_when_both_fields_come(api, make_gateway):
    gateway = make_gateway("android")

    raw = android_event({"sender": "+919876543210", "phoneNumber": "+919876543210", "recipient": None})

    assert post_android(api, gateway, raw).status_code == 202
    assert queued_senders() == ["+919876543210"]


def test_android_without_any_sender_field_is_a_400(api, make_gateway):
    gateway = make_gateway("android")

    response = post_android(api, gateway, android_event({}))

    assert response.status_code == 400
    assert queued() == 0


def test_a_scope_change_from_the_service_reaches_the_mirror(
    api, make_gateway, django_capture_on_commit_callbacks
):
    from apps.inbound.services import gateway_update

    gateway = make_gateway("native")
    assert send_native(api, gateway.secret, "+447911123456", BODY, message_id="1").status_code == 202

    with django_capture_on_commit_callbacks(execute=True):
        gateway_update(gateway=gateway.model, name="UK only", countries=[44], receiving_number="")

    assert send_native(api, gateway.secret, "+919876543210", BODY, message_id="2").status_code == 403
    assert send_native(api, gateway.secret, "+447911123456", BODY, message_id="3").status_code == 202


def test_bad_scopes_are_refused_when_a_gateway_is_made(make_gateway):
    from apps.core.exceptions import ApplicationError

    with pytest.raises(ApplicationError, match="country calling code"):
        make_gateway("native", countries=["999"])
    with pytest.raises(ApplicationError, match="does not report"):
        make_gateway("native", receiving_number=RECEIVING)
