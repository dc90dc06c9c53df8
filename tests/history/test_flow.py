"""The event history of a whole onboarding with the real worker: each client reads, in
order, only what happened to its own registrations."""

from typing import Any

import pytest

from tests.helpers import send_native
from tests.polling import wait_for

pytestmark = pytest.mark.slow  # the session's real worker and beat

NUMBER = "9876512360"  # no other test's: the session worker drains what earlier tests left


def history(api: Any, creds: Any) -> list[dict[str, Any]]:
    return api.get("/events", {"limit": 1000}, **creds.auth).json()["events"]


def test_each_client_reads_its_own_onboarding_in_order_and_nothing_of_the_others(
    api, celery_worker, make_client, make_gateway
):
    victim_app, attacker_app = make_client("Victim app"), make_client("Attacker app")
    gateway = make_gateway("native")
    attackers = api.get(f"/onboard/register/{NUMBER}", **attacker_app.auth).json()
    victims = api.get(f"/onboard/register/{NUMBER}", {"reference": "user-1"}, **victim_app.auth).json()

    send_native(api, gateway.secret, NUMBER, victims["sms_body"])

    events = wait_for(
        lambda: (found := history(api, victim_app)) and len(found) >= 3 and found, message=celery_worker.logs
    )
    assert [e["type"] for e in events] == ["registration.opened", "sms.judged", "number.verified"]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    opened, judged, verified = (e["data"] for e in events)
    assert opened["registration_id"] == verified["registration_id"] == victims["registration_id"]
    assert opened["expires_at"] == victims["expires_at"]
    assert judged["status"] == "valid" and judged["registration_id"] == victims["registration_id"]
    assert verified["reference"] == "user-1" and verified["mobile_number"] == NUMBER
    # The attacker's app sees its own registration open and end, nothing of the victim's proof.
    theirs = history(api, attacker_app)
    assert [e["type"] for e in theirs] == ["registration.opened", "registration.expired"]
    assert {e["data"]["registration_id"] for e in theirs} == {attackers["registration_id"]}
    assert victims["hash"] not in str(events) + str(theirs)
