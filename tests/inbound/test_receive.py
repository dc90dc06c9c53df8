"""The four gateway endpoints: each format accepted, authenticated, de-duplicated, queued."""

import json
import time
from urllib.parse import urlencode

import pytest

from apps.core import keys
from apps.core.redis import get_redis
from tests.helpers import (
    android_headers,
    android_payload,
    jasmin_params,
    now_iso,
    send_android,
    send_jasmin,
    send_native,
    send_twilio,
    twilio_params,
)

pytestmark = pytest.mark.django_db

SENDER = "+919876543210"
BODY = "ONBOARD:" + "a" * 64


def queued() -> list[dict]:
    return [json.loads(item) for item in get_redis().lrange(keys.sms_inbound_queue(), 0, -1)]


# --- native JSON ---------------------------------------------------------------------
def test_native_gateway_queues_the_sms_and_answers_202(api, make_gateway):
    gateway = make_gateway("native")

    response = send_native(api, gateway.secret, SENDER, BODY, message_id="m-1")

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    [sms] = queued()
    assert sms["uuid"] == response.json()["uuid"]
    assert sms["sender_number"] == SENDER
    assert sms["sms_message"] == BODY
    assert sms["gateway_id"] == str(gateway.id)


def test_native_gateway_acknowledges_a_repeat_without_queueing_it_again(api, make_gateway):
    gateway = make_gateway("native")

    first = send_native(api, gateway.secret, SENDER, BODY, message_id="m-1")
    again = send_native(api, gateway.secret, SENDER, BODY, message_id="m-1")

    assert again.status_code == 202
    assert again.json()["uuid"] == first.json()["uuid"]
    assert again.json()["duplicate"] is True
    assert len(queued()) == 1


def test_native_gateway_without_message_id_drops_an_identical_redelivery(api, make_gateway):
    gateway = make_gateway("native")
    payload = {"sender_number": SENDER, "sms_message": BODY, "received_timestamp": now_iso()}
    auth = {"HTTP_AUTHORIZATION": f"Bearer {gateway.secret}"}

    api.post("/sms/receive", payload, format="json", **auth)
    api.post("/sms/receive", payload, format="json", **auth)

    assert len(queued()) == 1


@pytest.mark.parametrize("header", [None, "Bearer nope-nope-nope-nope", "Basic abc"])
def test_native_gateway_refuses_bad_tokens_and_queues_nothing(api, make_gateway, header):
    make_gateway("native")
    payload = {"sender_number": SENDER, "sms_message": BODY, "received_timestamp": now_iso()}
    kwargs = {"HTTP_AUTHORIZATION": header} if header else {}

    response = api.post("/sms/receive", payload, format="json", **kwargs)

    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}
    assert queued() == []


def test_a_client_api_key_is_not_a_gateway_token(api, make_gateway, client_creds):
    make_gateway("native")

    response = send_native(api, client_creds.api_key, SENDER, BODY)

    assert response.status_code == 401


@pytest.mark.parametrize(
    "payload",
    [
        {"sms_message": BODY, "received_timestamp": "2025-01-01T00:00:00Z"},
        {"sender_number": SENDER, "received_timestamp": "2025-01-01T00:00:00Z"},
        {"sender_number": SENDER, "sms_message": BODY, "received_timestamp": "yesterday"},
        {"sender_number": SENDER, "sms_message": BODY, "received_timestamp": now_iso(), "extra": 1},
        {"sender_number": ["x"], "sms_message": BODY, "received_timestamp": now_iso()},
        {"sender_number": "1" * 100, "sms_message": BODY, "received_timestamp": now_iso()},
        [1, 2, 3],
    ],
)
def test_native_gateway_rejects_malformed_payloads(api, make_gateway, payload):
    gateway = make_gateway("native")

    response = api.post("/sms/receive", payload, format="json", HTTP_AUTHORIZATION=f"Bearer {gateway.secret}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert queued() == []


def test_native_gateway_rejects_broken_json_and_wrong_content_types(api, make_gateway):
    gateway = make_gateway("native")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {gateway.secret}"}

    broken = api.post("/sms/receive", b"{not json", content_type="application/json", **auth)
    form = api.post("/sms/receive", b"a=b", content_type="application/x-www-form-urlencoded", **auth)

    assert broken.status_code == 400
    assert broken.json()["code"] == "parse_error"
    assert form.status_code == 415
    assert form.json()["code"] == "unsupported_media_type"
    assert queued() == []


def test_bodies_over_64_kib_get_413(api, make_gateway):
    gateway = make_gateway("native")
    huge = json.dumps({"sender_number": SENDER, "sms_message": "x" * 70_000, "received_timestamp": now_iso()})

    response = api.post(
        "/sms/receive", huge, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {gateway.secret}"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert queued() == []


def test_receive_runs_no_sql(api, make_gateway, warm_hot_path, django_assert_num_queries):
    gateway = make_gateway("native")
    warm_hot_path()
    send_native(api, gateway.secret, SENDER, BODY, message_id="warm")

    with django_assert_num_queries(0):
        response = send_native(api, gateway.secret, SENDER, BODY, message_id="m-1")

    assert response.status_code == 202


# --- SMS Gateway for Android ---------------------------------------------------------
def test_android_gateway_queues_a_signed_sms_received_event(api, make_gateway):
    gateway = make_gateway("android")

    response = send_android(api, gateway, SENDER, BODY)

    assert response.status_code == 202
    [sms] = queued()
    assert (sms["sender_number"], sms["sms_message"], sms["message_id"]) == (SENDER, BODY, "evt-1")


def test_android_gateway_refuses_a_forged_signature(api, make_gateway):
    gateway = make_gateway("android")
    raw = android_payload(SENDER, BODY)
    headers = android_headers("some-other-secret-value", raw)

    response = api.post(f"/sms/receive/android/{gateway.id}", raw, content_type="application/json", **headers)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"
    assert queued() == []


def test_android_gateway_refuses_a_stale_timestamp(api, make_gateway):
    gateway = make_gateway("android")
    raw = android_payload(SENDER, BODY)
    headers = android_headers(gateway.secret, raw, timestamp=int(time.time()) - 600)

    response = api.post(f"/sms/receive/android/{gateway.id}", raw, content_type="application/json", **headers)

    assert response.status_code == 401
    assert queued() == []


def test_android_gateway_refuses_a_body_changed_after_signing(api, make_gateway):
    gateway = make_gateway("android")
    raw = android_payload(SENDER, BODY)
    headers = android_headers(gateway.secret, raw)

    tampered = raw.replace(SENDER.encode(), b"+919999999999")
    response = api.post(
        f"/sms/receive/android/{gateway.id}", tampered, content_type="application/json", **headers
    )

    assert response.status_code == 401
    assert queued() == []


def test_android_gateway_drops_a_replayed_event(api, make_gateway):
    gateway = make_gateway("android")

    send_android(api, gateway, SENDER, BODY, event_id="evt-7")
    again = send_android(api, gateway, SENDER, BODY, event_id="evt-7")

    assert again.status_code == 202
    assert len(queued()) == 1


def test_android_gateway_acknowledges_other_events_without_queueing(api, make_gateway):
    gateway = make_gateway("android")
    raw = json.dumps({"event": "sms:sent", "id": "e", "payload": {}}).encode()

    response = api.post(
        f"/sms/receive/android/{gateway.id}",
        raw,
        content_type="application/json",
        **android_headers(gateway.secret, raw),
    )

    assert response.status_code == 202
    assert queued() == []


def test_android_gateway_rejects_a_signed_but_malformed_event(api, make_gateway):
    gateway = make_gateway("android")
    raw = json.dumps({"event": "sms:received", "id": "e", "payload": {"message": "hi"}}).encode()

    response = api.post(
        f"/sms/receive/android/{gateway.id}",
        raw,
        content_type="application/json",
        **android_headers(gateway.secret, raw),
    )

    assert response.status_code == 400
    assert queued() == []


@pytest.mark.parametrize("gateway_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_gateways_get_404(api, make_gateway, gateway_id):
    make_gateway("android")
    raw = android_payload(SENDER, BODY)

    response = api.post(f"/sms/receive/android/{gateway_id}", raw, content_type="application/json")

    assert response.status_code == 404
    assert response.json()["code"] == "gateway_not_found"


def test_a_gateway_of_another_kind_is_not_found(api, make_gateway):
    jasmin = make_gateway("jasmin")

    response = send_android(api, jasmin, SENDER, BODY)

    assert response.status_code == 404


# --- Twilio ----------------------------------------------------------------------------
def test_twilio_gateway_queues_a_signed_sms_and_answers_twiml(api, make_gateway):
    gateway = make_gateway("twilio")

    response = send_twilio(api, gateway, SENDER, BODY)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.endswith(b"<Response/>")
    [sms] = queued()
    assert (sms["sender_number"], sms["sms_message"]) == (SENDER, BODY)


def test_twilio_gateway_refuses_a_bad_signature(api, make_gateway):
    gateway = make_gateway("twilio")

    response = api.post(
        f"/sms/receive/twilio/{gateway.id}",
        urlencode(twilio_params(SENDER, BODY)),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE="bm90IGEgc2lnbmF0dXJl",
    )

    assert response.status_code == 401
    assert queued() == []


def test_twilio_gateway_drops_a_retried_message_sid(api, make_gateway):
    gateway = make_gateway("twilio")

    send_twilio(api, gateway, SENDER, BODY)
    again = send_twilio(api, gateway, SENDER, BODY)

    assert again.status_code == 200
    assert len(queued()) == 1


def test_twilio_gateway_rejects_json(api, make_gateway):
    gateway = make_gateway("twilio")

    response = api.post(f"/sms/receive/twilio/{gateway.id}", {"From": SENDER}, format="json")

    assert response.status_code in {401, 415}
    assert queued() == []


# --- Jasmin ----------------------------------------------------------------------------
def test_jasmin_gateway_queues_the_sms_and_acks(api, make_gateway):
    gateway = make_gateway("jasmin")

    response = send_jasmin(api, gateway, "919876543210", BODY)

    assert response.status_code == 200
    assert response.content == b"ACK/Jasmin"
    [sms] = queued()
    assert (sms["sender_number"], sms["sms_message"]) == ("919876543210", BODY)


@pytest.mark.parametrize("token", ["", "wrong-token-wrong-token"])
def test_jasmin_gateway_refuses_a_wrong_token(api, make_gateway, token):
    gateway = make_gateway("jasmin")

    response = api.post(
        f"/sms/receive/jasmin/{gateway.id}?token={token}",
        urlencode(jasmin_params(SENDER, BODY)),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "invalid_token"
    assert queued() == []


def test_jasmin_gateway_drops_a_redelivered_id(api, make_gateway):
    gateway = make_gateway("jasmin")

    send_jasmin(api, gateway, SENDER, BODY)
    again = send_jasmin(api, gateway, SENDER, BODY)

    assert again.content == b"ACK/Jasmin"
    assert len(queued()) == 1


def test_jasmin_gateway_rejects_a_callback_without_sender(api, make_gateway):
    gateway = make_gateway("jasmin")
    params = jasmin_params(SENDER, BODY)
    del params["from"]

    response = api.post(
        f"/sms/receive/jasmin/{gateway.id}?token={gateway.secret}",
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert queued() == []
