"""Every event reaches the event history in the round trip that makes its change: the
operators' feed, and the stream of each client it belongs to, never another's. A refused
request appends nothing, and no entry carries a secret (hash, code, its HMAC, a body)."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.abuse.services import blacklist_add
from apps.core import history, keys
from apps.core.phone import mobile_parse
from apps.core.redis import get_redis as _get_redis
from apps.core.system_settings import system_setting_set
from apps.inbound.models import InboundOutbox
from apps.inbound.outbox import sms_outbox_flush
from apps.inbound.services import gateway_deactivate
from apps.messaging.payloads import NotificationRecord
from apps.messaging.services.receipts import receipt_apply
from apps.messaging.services.routing import routes_forget
from apps.messaging.services.sender import notifications_send_pending
from apps.messaging.services.status import notification_change
from apps.onboarding.services.pipeline import sms_validate_pending
from apps.onboarding.services.registration import number_register
from tests.helpers import send_native

pytestmark = pytest.mark.django_db

NUMBER = "9876543210"
OTHER = "9876543211"
DEAD_REDIS = "redis://127.0.0.1:1/0"


def get_redis() -> Any:
    """The data Redis, untyped: redis-py's stubs type every reply as a union."""
    return _get_redis()


# --- reading the streams -----------------------------------------------------------------
def entries(stream: str) -> list[dict[str, Any]]:
    """Every entry of ``stream``, oldest first: its type, data, clients (feed only) and raw fields."""
    return [
        {"type": f["t"], "data": json.loads(f["d"]), "clients": f.get("c"), "raw": f}
        for _, f in get_redis().xrange(stream)
    ]


def feed(kind: str | None = None) -> list[dict[str, Any]]:
    return [e for e in entries(keys.event_feed()) if kind is None or e["type"] == kind]


def own(client_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [e for e in entries(keys.event_history(client_id)) if kind is None or e["type"] == kind]


def every_entry_text() -> str:
    """Every field of every entry of every history stream, as one text to search."""
    r = get_redis()
    streams = [keys.event_feed(), *r.scan_iter(match=keys.event_history("*"))]
    return json.dumps([e["raw"] for stream in streams for e in entries(stream)])


def assert_no_secret(*secrets: str) -> None:
    text = every_entry_text()
    for secret in secrets:
        assert secret and secret not in text


def is_iso_z(value: str) -> datetime:
    assert value.endswith("Z")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- the actions -------------------------------------------------------------------------
def register(api: Any, creds: Any, number: str = NUMBER, **query: Any) -> Any:
    return api.get(f"/onboard/register/{number}", query, **creds.auth)


def request_otp(api: Any, creds: Any, mobile: str = NUMBER) -> Any:
    return api.post("/otp/request", {"mobile_number": mobile}, format="json", **creds.auth)


def verify_otp(api: Any, creds: Any, otp: str, mobile: str = NUMBER) -> Any:
    return api.post("/otp/verify", {"mobile_number": mobile, "otp": otp}, format="json", **creds.auth)


def code_of(notification_id: str) -> str:
    """The code in the queued SMS (what the provider would receive)."""
    for raw in get_redis().lrange(keys.notification_queue(), 0, -1):
        record = NotificationRecord.from_json(raw)
        if record.id == notification_id:
            return "".join(ch for ch in record.body.split("code is ", 1)[1].split(".", 1)[0] if ch.isdigit())
    raise AssertionError(f"notification {notification_id} is not queued")


def notify(api: Any, creds: Any, body: str = "Your parcel is on its way") -> str:
    answer = api.post(
        "/notifications", {"channel": "sms", "to": NUMBER, "body": body}, format="json", **creds.auth
    )
    assert answer.status_code == 202, answer.content
    return str(answer.json()["id"])


@pytest.fixture
def gateway(make_gateway: Any) -> Any:
    return make_gateway("native")


@pytest.fixture
def console(make_gateway: Any) -> Any:
    return make_gateway("console")


@pytest.fixture
def two_clients(make_client: Any) -> tuple[Any, Any]:
    return make_client("Acme"), make_client("Globex")


# --- registration.opened -----------------------------------------------------------------
def test_a_registration_is_opened_in_its_clients_stream_and_the_feed(api: Any, two_clients: Any) -> None:
    acme, globex = two_clients
    answer = register(api, acme, "+91 98765 43210", reference="account-7")
    assert answer.status_code == 200
    body = answer.json()

    [mine] = own(acme.id)
    assert mine["type"] == history.REGISTRATION_OPENED
    assert mine["data"] == {
        "registration_id": body["registration_id"],
        "mobile_number": NUMBER,
        "reference": "account-7",
        "expires_at": body["expires_at"],  # the script's own expiry, as the API gave it
    }
    expires_in = is_iso_z(mine["data"]["expires_at"]) - datetime.now(UTC)
    assert abs(expires_in - timedelta(days=1)) < timedelta(minutes=1)
    [everyone] = feed()
    assert (everyone["type"], everyone["data"], everyone["clients"]) == (mine["type"], mine["data"], acme.id)
    assert "c" not in mine["raw"]  # a client's own stream does not name clients
    assert own(globex.id) == []
    assert_no_secret(body["hash"], body["sms_body"])


@pytest.mark.parametrize("refusal", ["rate_limited", "blacklisted", "verified"])
def test_a_refused_registration_appends_nothing(api: Any, client_creds: Any, refusal: str) -> None:
    if refusal == "rate_limited":
        system_setting_set(key="register_per_client_number_per_hour", value=1)
        assert register(api, client_creds).status_code == 200
    elif refusal == "blacklisted":
        blacklist_add(mobile=mobile_parse(NUMBER), source="test")
    else:
        get_redis().sadd(keys.out_sms_numbers(), NUMBER)
    before = len(feed(history.REGISTRATION_OPENED))

    answer = register(api, client_creds)

    assert answer.status_code in (403, 409, 429)
    assert len(feed(history.REGISTRATION_OPENED)) == before == len(own(client_creds.id))


# --- sms.received ------------------------------------------------------------------------
def test_a_received_sms_goes_to_the_feed_only_and_a_repeat_delivery_adds_nothing(
    api: Any, gateway: Any, client_creds: Any
) -> None:
    body = register(api, client_creds).json()["sms_body"]
    first = send_native(api, gateway.secret, "+91" + NUMBER, body, message_id="m-1")
    again = send_native(api, gateway.secret, "+91" + NUMBER, body, message_id="m-1")
    assert again.json()["duplicate"] is True

    [received] = feed(history.SMS_RECEIVED)
    assert received["data"] == {
        "sms_uuid": first.json()["uuid"],
        "mobile_number": "+91" + NUMBER,  # the sender as the gateway gave it
        "gateway_id": str(gateway.id),
    }
    assert received["clients"] == ""
    assert own(client_creds.id, history.SMS_RECEIVED) == []
    assert_no_secret(body, body.split(":", 1)[1])


def test_an_sms_kept_in_the_outbox_is_received_when_the_flush_queues_it_once(
    api: Any, gateway: Any, settings: Any
) -> None:
    live = settings.REDIS_URL
    settings.REDIS_URL = DEAD_REDIS
    uuid = send_native(api, gateway.secret, NUMBER, "ONBOARD:secret-hash", message_id="o-1").json()["uuid"]
    settings.REDIS_URL = live
    assert feed() == []  # Redis had nothing of it: the event comes with the queueing

    row = InboundOutbox.objects.get()
    assert sms_outbox_flush() == 1
    InboundOutbox.objects.create(  # the row as a flush killed before its DELETE left it
        gateway_id=row.gateway_id, message_id=row.message_id, sms_uuid=row.sms_uuid, record=row.record
    )
    assert sms_outbox_flush() == 0  # the dedupe mark drops it, and so its event

    [received] = feed(history.SMS_RECEIVED)
    assert received["data"] == {"sms_uuid": uuid, "mobile_number": NUMBER, "gateway_id": str(gateway.id)}
    assert_no_secret("secret-hash")


def test_an_outbox_row_whose_record_cannot_be_read_still_moves_with_its_event(gateway: Any) -> None:
    row = InboundOutbox.objects.create(
        gateway_id=str(gateway.id),
        message_id="bad-1",
        sms_uuid="6f1c1c1e-8a8b-4a53-9d8e-4a8c2f1d0e11",
        record="{}",
    )

    assert sms_outbox_flush() == 1

    [received] = feed(history.SMS_RECEIVED)
    assert received["data"] == {
        "sms_uuid": str(row.sms_uuid),
        "mobile_number": "",
        "gateway_id": str(gateway.id),
    }


# --- sms.judged and number.verified ------------------------------------------------------
def test_a_valid_sms_is_judged_and_verifies_the_number_for_the_registering_client_only(
    api: Any, gateway: Any, two_clients: Any
) -> None:
    acme, globex = two_clients
    mine = register(api, acme, reference="acct-1").json()
    theirs = register(api, globex).json()
    uuid = send_native(api, gateway.secret, NUMBER, mine["sms_body"]).json()["uuid"]

    sms_validate_pending()

    judged = {
        "sms_uuid": uuid,
        "mobile_number": NUMBER,
        "status": "valid",
        "reason": "",
        "registration_id": mine["registration_id"],
    }
    assert [(e["type"], e["data"]) for e in own(acme.id)][1:] == [
        (history.SMS_JUDGED, judged),
        (history.NUMBER_VERIFIED, own(acme.id, history.NUMBER_VERIFIED)[0]["data"]),
    ]
    [verified] = own(acme.id, history.NUMBER_VERIFIED)
    assert {k: v for k, v in verified["data"].items() if k != "verified_at"} == {
        "registration_id": mine["registration_id"],
        "reference": "acct-1",
        "mobile_number": NUMBER,
        "country_code": "91",
        "sms_uuid": uuid,
    }
    assert abs(is_iso_z(verified["data"]["verified_at"]) - datetime.now(UTC)) < timedelta(minutes=1)
    # The other client's registration only ended: its stream has its opening and its end,
    # nothing of the verdict or the verification.
    assert [e["type"] for e in own(globex.id)] == [history.REGISTRATION_OPENED, history.REGISTRATION_EXPIRED]
    assert own(globex.id)[-1]["data"]["registration_id"] == theirs["registration_id"]
    assert [(e["type"], e["clients"]) for e in feed()][-3:] == [
        (history.SMS_JUDGED, acme.id),
        (history.REGISTRATION_EXPIRED, globex.id),
        (history.NUMBER_VERIFIED, acme.id),
    ]
    assert_no_secret(mine["hash"], theirs["hash"], mine["sms_body"])


def test_an_invalid_sms_is_judged_for_every_client_waiting_on_the_number_and_verifies_nothing(
    api: Any, gateway: Any, two_clients: Any, make_client: Any
) -> None:
    acme, globex = two_clients
    bystander = make_client("Initech")
    register(api, acme)
    register(api, globex)
    register(api, bystander, OTHER)
    uuid = send_native(api, gateway.secret, NUMBER, "ONBOARD:" + "0" * 64).json()["uuid"]

    sms_validate_pending()

    expected = {
        "sms_uuid": uuid,
        "mobile_number": NUMBER,
        "status": "invalid",
        "reason": "header_hash",
        "registration_id": "",
    }
    for creds in (acme, globex):
        assert [e["data"] for e in own(creds.id, history.SMS_JUDGED)] == [expected]
    assert own(bystander.id, history.SMS_JUDGED) == []
    assert feed(history.NUMBER_VERIFIED) == []
    [judged] = feed(history.SMS_JUDGED)
    assert sorted(judged["clients"].split(",")) == sorted([acme.id, globex.id])


def test_an_sms_nobody_waits_for_is_judged_in_the_feed_only(
    api: Any, gateway: Any, client_creds: Any
) -> None:
    send_native(api, gateway.secret, NUMBER, "HELLO")

    sms_validate_pending()

    [judged] = feed(history.SMS_JUDGED)
    assert (judged["data"]["status"], judged["clients"]) == ("invalid", "")
    assert not list(get_redis().scan_iter(match=keys.event_history("*")))


# --- otp.* ---------------------------------------------------------------------------------
@pytest.mark.usefixtures("console")
def test_an_otp_request_and_its_verification_go_to_the_calling_client_only(
    api: Any, two_clients: Any
) -> None:
    acme, globex = two_clients
    answer = request_otp(api, acme)
    assert answer.status_code == 202, answer.content
    notification_id = answer.json()["notification_id"]
    code = code_of(notification_id)
    otp_hash = json.loads(get_redis().get(keys.otp(acme.id, NUMBER)))["otp_hash"]

    assert verify_otp(api, acme, code).status_code == 200

    assert [(e["type"], e["data"]) for e in own(acme.id)] == [
        (history.OTP_REQUESTED, {"mobile_number": NUMBER, "notification_id": notification_id}),
        (history.OTP_VERIFIED, {"mobile_number": NUMBER}),
    ]
    assert [(e["type"], e["clients"]) for e in feed()] == [
        (history.OTP_REQUESTED, acme.id),
        (history.OTP_VERIFIED, acme.id),
    ]
    assert own(globex.id) == []
    assert_no_secret(code, otp_hash)


@pytest.mark.usefixtures("console")
def test_a_wrong_code_fails_until_the_number_is_blocked_and_is_never_verified(
    api: Any, client_creds: Any
) -> None:
    system_setting_set(key="otp_max_attempts", value=3)
    code = code_of(request_otp(api, client_creds).json()["notification_id"])
    wrong = "000000" if code != "000000" else "111111"

    answers = [verify_otp(api, client_creds, wrong).status_code for _ in range(3)]
    assert answers == [400, 400, 429]
    assert verify_otp(api, client_creds, code).status_code == 429  # blocked: even the right code

    assert [(e["type"], e["data"]) for e in own(client_creds.id)][1:] == [
        (history.OTP_FAILED, {"mobile_number": NUMBER, "reason": "wrong_code", "attempts_left": 2}),
        (history.OTP_FAILED, {"mobile_number": NUMBER, "reason": "wrong_code", "attempts_left": 1}),
        (history.OTP_BLOCKED, {"mobile_number": NUMBER, "reason": "max_attempts"}),
        (history.OTP_BLOCKED, {"mobile_number": NUMBER, "reason": "max_attempts"}),
    ]
    assert feed(history.OTP_VERIFIED) == []
    assert_no_secret(code)


@pytest.mark.usefixtures("console")
def test_a_check_without_a_code_alive_fails_with_its_reason(api: Any, client_creds: Any) -> None:
    assert verify_otp(api, client_creds, "123456").status_code == 410

    [failed] = own(client_creds.id)
    assert (failed["type"], failed["data"]) == (
        history.OTP_FAILED,
        {"mobile_number": NUMBER, "reason": "no_code", "attempts_left": 5},
    )


@pytest.mark.usefixtures("console")
def test_a_blocked_otp_request_says_why_and_a_rate_limited_or_conflicting_one_appends_nothing(
    api: Any, client_creds: Any
) -> None:
    blacklist_add(mobile=mobile_parse(OTHER), source="test")
    assert request_otp(api, client_creds, OTHER).status_code == 403
    assert request_otp(api, client_creds).status_code == 202
    assert request_otp(api, client_creds).status_code == 409  # a code is alive
    system_setting_set(key="otp_request_rate_per_minute", value=1)
    assert request_otp(api, client_creds, "9876543212").status_code == 429

    assert [(e["type"], e["data"].get("reason")) for e in own(client_creds.id)] == [
        (history.OTP_BLOCKED, "blacklisted"),
        (history.OTP_REQUESTED, None),
    ]
    assert own(client_creds.id)[0]["data"] == {"mobile_number": OTHER, "reason": "blacklisted"}
    assert [e["type"] for e in feed() if e["type"].startswith("otp.")] == [
        history.OTP_BLOCKED,
        history.OTP_REQUESTED,
    ]


@pytest.mark.usefixtures("console")
def test_a_rate_limited_check_appends_nothing(api: Any, client_creds: Any) -> None:
    system_setting_set(key="otp_verify_rate_per_minute", value=1)
    assert verify_otp(api, client_creds, "123456").status_code == 410
    assert verify_otp(api, client_creds, "123456").status_code == 429

    assert [e["type"] for e in own(client_creds.id)] == [history.OTP_FAILED]


# --- notification.* ----------------------------------------------------------------------
@pytest.fixture
def fresh_routes() -> Any:
    routes_forget()
    yield
    routes_forget()


@pytest.mark.django_db(transaction=True)  # the sender's threads read the gateways on their own connections
@pytest.mark.usefixtures("fresh_routes")
def test_a_sent_then_delivered_notification_reaches_its_clients_stream_once_per_status(
    api: Any, two_clients: Any, console: Any
) -> None:
    acme, globex = two_clients
    notification_id = notify(api, acme, body="parcel 4711 arrives today")

    assert notifications_send_pending() == 1
    delivered = receipt_apply(
        gateway_id=str(console.id), provider_id=f"console-{notification_id}", status="delivered"
    )
    late = receipt_apply(gateway_id=str(console.id), provider_id=f"console-{notification_id}", status="sent")
    assert delivered.applied and not late.applied  # nothing moves a delivered notification

    shown = {
        "id": notification_id,
        "channel": "sms",
        "attempts": 1,
        "last_error": "",
        "gateway_id": str(console.id),
    }
    assert [(e["type"], e["data"]) for e in own(acme.id)] == [
        (history.NOTIFICATION_SENT, {**shown, "status": "sent"}),
        (history.NOTIFICATION_DELIVERED, {**shown, "status": "delivered"}),
    ]
    assert [(e["type"], e["clients"]) for e in feed()] == [
        (history.NOTIFICATION_SENT, acme.id),
        (history.NOTIFICATION_DELIVERED, acme.id),
    ]
    assert own(globex.id) == []
    assert_no_secret("parcel 4711")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_routes")
def test_a_notification_no_gateway_can_send_fails_with_its_error(
    api: Any, client_creds: Any, console: Any
) -> None:
    notification_id = notify(api, client_creds)
    gateway_deactivate(gateway=console.model)
    routes_forget()

    notifications_send_pending()

    [failed] = own(client_creds.id)
    assert failed["type"] == history.NOTIFICATION_FAILED
    assert failed["data"] == {
        "id": notification_id,
        "channel": "sms",
        "status": "failed",
        "attempts": 0,
        "last_error": "no sending gateway covers this destination",
        "gateway_id": "",
    }


@pytest.mark.usefixtures("console")
def test_queued_and_sending_changes_and_refused_ones_append_nothing(api: Any, client_creds: Any) -> None:
    notification_id = notify(api, client_creds)
    assert notification_change(notification_id=notification_id, status="sending", attempts=1).applied
    assert notification_change(notification_id=notification_id, status="queued", attempts=1).applied
    assert not notification_change(notification_id="no-such-notification", status="sent").applied

    assert own(client_creds.id) == [] and feed() == []


# --- the length bound --------------------------------------------------------------------
def test_the_streams_stay_near_their_lengths_in_scripts(client_creds: Any, settings: Any) -> None:
    settings.EVENT_HISTORY_LENGTH = 10
    settings.EVENT_FEED_LENGTH = 20
    for n in range(350):
        number_register(mobile=mobile_parse(f"98765{n:05d}"), client_id=client_creds.id)

    r = get_redis()
    # Approximate trimming drops whole blocks of up to 100 entries (stream-node-max-entries).
    assert 10 <= r.xlen(keys.event_history(client_creds.id)) <= 10 + 100
    assert 20 <= r.xlen(keys.event_feed()) <= 20 + 100


def test_the_streams_stay_near_their_lengths_in_the_pipeline(
    api: Any, gateway: Any, client_creds: Any, settings: Any
) -> None:
    settings.EVENT_HISTORY_LENGTH = 10
    settings.EVENT_FEED_LENGTH = 20
    register(api, client_creds)
    for n in range(350):
        send_native(api, gateway.secret, NUMBER, f"WRONG {n}", message_id=f"w-{n}")

    assert sms_validate_pending() == 350

    r = get_redis()
    assert 10 <= r.xlen(keys.event_history(client_creds.id)) <= 10 + 100
    assert 20 <= r.xlen(keys.event_feed()) <= 20 + 100
    assert own(client_creds.id)[-1]["data"]["status"] == "invalid"  # the newest are kept
