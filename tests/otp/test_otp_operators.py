"""What operators get: the admin's policies and safe list (mirrored to Redis), the dashboard
panel with its "lift" button, the otp_status command, and the Redis repair of the mirrors."""

import json
import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from apps.core import keys
from apps.core.models import OperatorAction
from apps.core.redis import get_redis
from apps.core.repair import redis_repair
from apps.otp.mirror import policy_directory
from apps.otp.models import OtpPolicy, OtpSafeNumber
from tests.factories import ClientFactory, MonitorEventFactory

from .conftest import NUMBER, request_otp, verify_otp

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/dashboard/"


def block_prefix(client_id: str, prefix: str = "91-9876", seconds: int = 600) -> None:
    r = get_redis()
    r.set(keys.otp_prefix_block(client_id, prefix), "50:1", ex=seconds)
    r.zadd(keys.otp_blocked_prefixes(), {f"{client_id}:{prefix}": time.time() * 1000 + seconds * 1000})


def test_a_policy_saved_in_the_admin_reaches_redis(
    admin_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = ClientFactory.create()
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client.post(
            "/admin/otp/otppolicy/add/",
            {"client": client.id, "allowed_country_codes": '["44"]', "message_template": "Code {code}"},
        )
    assert answer.status_code == 302, answer.content
    stored = json.loads(str(get_redis().hget(keys.otp_policies(), str(client.id))))
    assert stored == {"countries": ["44"], "template": "Code {code}"}
    policy = OtpPolicy.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/admin/otp/otppolicy/{policy.pk}/delete/", {"post": "yes"})
    assert not get_redis().hexists(keys.otp_policies(), str(client.id))


@pytest.mark.parametrize(
    ("countries", "template"),
    [
        ('["4x"]', ""),
        ('"44"', ""),
        ("[]", "no placeholder"),
        ("[]", "{code} {hours}"),
        ("[]", "{code}" * 200),
    ],
)
def test_the_admin_refuses_a_bad_policy(admin_client: Any, countries: str, template: str) -> None:
    client = ClientFactory.create()
    answer = admin_client.post(
        "/admin/otp/otppolicy/add/",
        {"client": client.id, "allowed_country_codes": countries, "message_template": template},
    )
    assert answer.status_code == 200 and answer.context["adminform"].form.errors
    assert not OtpPolicy.objects.exists()


def test_safe_numbers_are_normalized_and_mirrored(
    admin_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client.post(
            "/admin/otp/otpsafenumber/add/", {"mobile": "+91 98765 43210", "note": "QA"}
        )
    assert answer.status_code == 302
    assert OtpSafeNumber.objects.get().mobile == NUMBER
    assert get_redis().smembers(keys.otp_safe_numbers()) == {NUMBER}
    bad = admin_client.post("/admin/otp/otpsafenumber/add/", {"mobile": "12345"})
    assert bad.status_code == 200 and "mobile" in bad.context["adminform"].form.errors


def test_the_repair_rebuilds_the_policies_and_the_safe_list(django_capture_on_commit_callbacks: Any) -> None:
    client = ClientFactory.create()
    OtpPolicy.objects.create(client=client, allowed_country_codes=["44"])
    OtpSafeNumber.objects.create(mobile=NUMBER)
    get_redis().flushdb()
    report = redis_repair()
    assert report is not None and report.otp_safe == 1
    assert get_redis().sismember(keys.otp_safe_numbers(), NUMBER)
    policy_directory.forget_local()
    assert policy_directory.policy(str(client.id)).countries == ("44",)


def test_the_dashboard_shows_requested_vs_verified_and_blocked_prefixes(admin_client: Any) -> None:
    client = ClientFactory.create(name="Acme")
    for status in ("otp_requested", "otp_requested", "otp_verified"):
        MonitorEventFactory(status=status, country_code="91")
    MonitorEventFactory(status="otp_requested", country_code="44", mobile="+447911123456")
    block_prefix(str(client.id))
    page = admin_client.get(DASHBOARD).content.decode()
    assert "One-time passwords" in page
    assert 'id="dash-otp-blocked"' in page and "+91-9876" in page and "Acme" in page
    countries = page.split('id="dash-otp-countries"', 1)[1].split("</table>", 1)[0]
    assert '+91</td><td class="num">2</td><td class="num">1</td><td class="num">50' in countries
    assert '+44</td><td class="num">1</td><td class="num">0</td>' in countries


@pytest.mark.usefixtures("console")
def test_lift_reopens_a_blocked_prefix_and_is_logged(api: Any, admin_client: Any, client_creds: Any) -> None:
    block_prefix(client_creds.id)
    assert request_otp(api, client_creds).status_code == 429
    answer = admin_client.post(
        "/admin/otp/otppolicy/lift-prefix/", {"client_id": client_creds.id, "prefix": "91-9876"}
    )
    assert answer.status_code == 302 and answer["Location"] == DASHBOARD
    assert request_otp(api, client_creds).status_code == 202
    assert get_redis().zcard(keys.otp_blocked_prefixes()) == 0
    action = OperatorAction.objects.get(action="otp.prefix_lift")
    assert action.object_id == "91-9876"
    assert admin_client.get("/admin/otp/otppolicy/lift-prefix/").status_code == 405


def test_lift_needs_a_staff_login(client: Any, client_creds: Any) -> None:
    block_prefix(client_creds.id)
    answer = client.post(
        "/admin/otp/otppolicy/lift-prefix/", {"client_id": client_creds.id, "prefix": "91-9876"}
    )
    assert answer.status_code == 302 and "/login/" in answer["Location"]
    assert get_redis().exists(keys.otp_prefix_block(client_creds.id, "91-9876"))


@pytest.mark.usefixtures("console")
def test_otp_status_tells_support_where_a_code_stands_without_the_code(api: Any, client_creds: Any) -> None:
    answer = request_otp(api, client_creds)
    verify_otp(api, client_creds, "0000")
    out = StringIO()
    call_command("otp_status", "+91 98765 43210", "--client", client_creds.id, stdout=out)
    text = out.getvalue()
    assert "code active" in text and "s left" in text and "1 (4 left)" in text
    record = json.loads(str(get_redis().get(keys.otp(client_creds.id, NUMBER))))
    assert record["otp_hash"] not in text
    sms = str(get_redis().lindex(keys.notification_queue(), 0))
    code = json.loads(sms)["body"].split("code is ", 1)[1][:6]
    assert code not in text
    out = StringIO()
    call_command("otp_status", NUMBER, "--client", client_creds.id, "--json", stdout=out)
    shown = json.loads(out.getvalue())
    assert shown["active"] is True and shown["failed_attempts"] == 1 and shown["prefix"] == "91-9876"
    assert answer.status_code == 202


@pytest.mark.parametrize(
    "args",
    [["12345", "--client", "6f1c3c55-0000-4000-8000-000000000000"], [NUMBER, "--client", "nope"], [NUMBER]],
)
def test_otp_status_bad_input_is_one_error(args: list[str], client_creds: Any) -> None:
    with pytest.raises(CommandError):
        call_command("otp_status", *args)


@pytest.mark.usefixtures("console")
def test_metrics_count_requests_and_checks_by_outcome(api: Any, client_creds: Any, settings: Any) -> None:
    settings.METRICS_PUBLIC = True
    answer = request_otp(api, client_creds)
    sms = json.loads(str(get_redis().lindex(keys.notification_queue(), 0)))
    code = sms["body"].split("code is ", 1)[1][:6]
    verify_otp(api, client_creds, "0000")
    verify_otp(api, client_creds, code)
    verify_otp(api, client_creds, code)
    text = api.get("/metrics").content.decode()
    assert answer.status_code == 202
    for outcome in ("requested", "failed", "verified", "expired"):
        assert f'smsbridge_otp_total{{outcome="{outcome}"}} 1.0' in text, outcome
    assert "smsbridge_otp_safe_numbers 0.0" in text
