"""Every limit of the OTP endpoints answers 429 with Retry-After and the RateLimit-* headers,
and a limit one client spends never blocks another client's use of the same number."""

from typing import Any

import pytest

from apps.core.system_settings import system_setting_set

from .conftest import request_otp, verify_otp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("console")]


def assert_limited(answer: Any, *, limit: int, code: str = "rate_limited") -> None:
    assert answer.status_code == 429, answer.content
    body = answer.json()
    assert body["code"] == code and body["retry_after"] >= 1
    assert int(answer["Retry-After"]) == body["retry_after"]
    assert answer["RateLimit-Limit"] == str(limit) and answer["RateLimit-Remaining"] == "0"
    assert int(answer["RateLimit-Reset"]) >= 1


def numbers(count: int) -> list[str]:
    return [f"98765{43210 + i}" for i in range(count)]


def test_a_client_over_its_request_budget_gets_429_and_another_client_does_not(
    api: Any, make_client: Any
) -> None:
    system_setting_set(key="otp_request_rate_per_minute", value=2)
    acme, other = make_client("Acme"), make_client("Other")
    codes = [request_otp(api, acme, mobile=n).status_code for n in numbers(2)]
    assert codes == [202, 202]
    assert_limited(request_otp(api, acme, mobile=numbers(3)[2]), limit=2)
    assert request_otp(api, other, mobile=numbers(3)[2]).status_code == 202


def test_one_number_is_limited_per_client(api: Any, make_client: Any) -> None:
    system_setting_set(key="otp_request_per_number_per_hour", value=2)
    acme, other = make_client("Acme"), make_client("Other")
    assert request_otp(api, acme).status_code == 202
    assert request_otp(api, acme).status_code == 409  # spends the number's budget too
    assert_limited(request_otp(api, acme), limit=2)
    assert request_otp(api, other).status_code == 202


def test_one_end_user_ip_is_limited_per_client(api: Any, make_client: Any) -> None:
    system_setting_set(key="otp_request_per_ip_per_hour", value=2)
    acme, other = make_client("Acme"), make_client("Other")
    for n in numbers(2):
        assert request_otp(api, acme, mobile=n, end_user_ip="203.0.113.9").status_code == 202
    assert_limited(request_otp(api, acme, mobile=numbers(3)[2], end_user_ip="203.0.113.9"), limit=2)
    assert request_otp(api, acme, mobile=numbers(3)[2], end_user_ip="203.0.113.10").status_code == 202
    assert request_otp(api, other, mobile=numbers(4)[3], end_user_ip="203.0.113.9").status_code == 202


def test_ipv6_addresses_count_by_their_64(api: Any, client_creds: Any) -> None:
    system_setting_set(key="otp_request_per_ip_per_hour", value=1)
    assert (
        request_otp(api, client_creds, mobile=numbers(1)[0], end_user_ip="2001:db8:1:2::1").status_code == 202
    )
    assert_limited(
        request_otp(api, client_creds, mobile=numbers(2)[1], end_user_ip="2001:db8:1:2::ffff"), limit=1
    )
    assert (
        request_otp(api, client_creds, mobile=numbers(2)[1], end_user_ip="2001:db8:1:3::1").status_code == 202
    )


def test_the_verify_budget_per_client_per_number_and_per_ip(api: Any, make_client: Any) -> None:
    system_setting_set(key="otp_verify_rate_per_minute", value=4)
    system_setting_set(key="otp_verify_per_number_per_hour", value=2)
    system_setting_set(key="otp_verify_per_ip_per_hour", value=1)
    acme, other = make_client("Acme"), make_client("Other")
    first, second = numbers(2)
    assert verify_otp(api, acme, "1234", mobile=first, end_user_ip="198.51.100.1").status_code == 410
    assert_limited(verify_otp(api, acme, "1234", mobile=second, end_user_ip="198.51.100.1"), limit=1)
    assert verify_otp(api, acme, "1234", mobile=first).status_code == 410
    assert_limited(verify_otp(api, acme, "1234", mobile=first), limit=2)  # the number's budget
    assert_limited(verify_otp(api, acme, "1234", mobile=second), limit=4)  # the client's budget
    assert verify_otp(api, other, "1234", mobile=first).status_code == 410


def test_rate_limit_headers_come_with_every_answer(api: Any, client_creds: Any) -> None:
    system_setting_set(key="otp_request_rate_per_minute", value=10)
    answer = request_otp(api, client_creds)
    assert answer["RateLimit-Limit"] == "10" and answer["RateLimit-Remaining"] == "9"
    assert verify_otp(api, client_creds, "123456")["RateLimit-Limit"] == "1200"
