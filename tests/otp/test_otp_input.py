"""Bad input on every field is a 4xx in the one error shape, never a 500, and changes nothing."""

from typing import Any

import pytest

from apps.core import keys
from apps.core.redis import get_redis

from .conftest import NUMBER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("console")]

BAD_REQUESTS = [
    {},
    {"mobile_number": ""},
    {"mobile_number": "12345"},
    {"mobile_number": "not a number"},
    {"mobile_number": "+91 98765 43210 ext 2"},
    {"mobile_number": "1" * 40},
    {"mobile_number": ["9876543210"]},
    {"mobile_number": {"n": 1}},
    {"mobile_number": None},
    {"mobile_number": True},
    {"mobile_number": NUMBER, "end_user_ip": "999.1.1.1"},
    {"mobile_number": NUMBER, "end_user_ip": "localhost"},
    {"mobile_number": NUMBER, "end_user_ip": ["1.2.3.4"]},
    {"mobile_number": NUMBER, "end_user_ip": "1" * 65},
    {"mobile_number": NUMBER, "otp": "123456"},  # unknown field on request
    {"mobile_number": "0\x00"},
]
BAD_VERIFIES = [
    {"mobile_number": NUMBER},
    {"otp": "123456"},
    {"mobile_number": NUMBER, "otp": ""},
    {"mobile_number": NUMBER, "otp": "12a456"},
    {"mobile_number": NUMBER, "otp": "123"},
    {"mobile_number": NUMBER, "otp": "12345678901"},
    {"mobile_number": NUMBER, "otp": "١٢٣٤٥٦"},  # digits, but not ASCII ones
    {"mobile_number": NUMBER, "otp": ["123456"]},
    {"mobile_number": NUMBER, "otp": None},
    {"mobile_number": "12345", "otp": "123456"},
    {"mobile_number": NUMBER, "otp": "123456", "end_user_ip": "::g"},
    {"mobile_number": NUMBER, "otp": "123456", "extra": 1},
]


@pytest.mark.parametrize("payload", BAD_REQUESTS)
def test_a_bad_request_is_400_and_sends_nothing(api: Any, client_creds: Any, payload: dict) -> None:
    answer = api.post("/otp/request", payload, format="json", **client_creds.auth)
    assert answer.status_code == 400, answer.content
    assert {"detail", "code"} <= set(answer.json())
    assert get_redis().llen(keys.notification_queue()) == 0


@pytest.mark.parametrize("payload", BAD_VERIFIES)
def test_a_bad_verify_is_400_and_spends_no_attempt(api: Any, client_creds: Any, payload: dict) -> None:
    answer = api.post("/otp/verify", payload, format="json", **client_creds.auth)
    assert answer.status_code == 400, answer.content
    assert {"detail", "code"} <= set(answer.json())
    assert not get_redis().exists(keys.otp_attempts(client_creds.id, NUMBER))


@pytest.mark.parametrize("mobile", ["12345", "abc", "%00", "+" + "9" * 40, "98765%20432"])
def test_a_bad_number_in_status_is_400(api: Any, client_creds: Any, mobile: str) -> None:
    answer = api.get(f"/otp/status/{mobile}", **client_creds.auth)
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_mobile_number"


@pytest.mark.parametrize("path", ["/otp/request", "/otp/verify"])
@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'"9876543210"', "application/json", 400),
        (b"mobile_number=9876543210", "application/x-www-form-urlencoded", 415),
        (b"x" * (65 * 1024), "application/json", 413),
    ],
)
def test_malformed_bodies_are_4xx(
    api: Any, client_creds: Any, path: str, raw: bytes, content_type: str, status: int
) -> None:
    answer = api.generic("POST", path, raw, content_type=content_type, **client_creds.auth)
    assert answer.status_code == status
    assert {"detail", "code"} <= set(answer.json())


@pytest.mark.parametrize(
    ("method", "path"), [("post", "/otp/request"), ("post", "/otp/verify"), ("get", f"/otp/status/{NUMBER}")]
)
def test_no_api_key_is_401(api: Any, method: str, path: str) -> None:
    answer = getattr(api, method)(path, {"mobile_number": NUMBER, "otp": "123456"}, format="json")
    assert answer.status_code == 401


def test_redis_without_its_data_is_503_for_a_request(api: Any, client_creds: Any) -> None:
    get_redis().delete(keys.redis_ready())
    answer = api.post("/otp/request", {"mobile_number": NUMBER}, format="json", **client_creds.auth)
    assert answer.status_code == 503 and answer.json()["code"] == "warming_up"
