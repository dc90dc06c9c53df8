"""Sweep-made blacklistings lapse after abuse_blacklist_days unless an operator keeps them."""

from datetime import UTC, datetime, timedelta

import pytest

import celeryconfig
from apps.abuse.models import BlacklistAction, BlacklistEntry
from apps.abuse.services import abuse_sweep, blacklist_add, blacklist_expire, blacklist_flush
from apps.abuse.tasks import blacklist_expire_task
from apps.core import keys
from apps.core.phone import mobile_parse
from apps.core.redis import get_redis
from apps.core.system_settings import system_setting_set

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/abuse/blacklistentry/"


def blacklisted(key: str) -> bool:
    return bool(get_redis().sismember(keys.blacklist_mobiles(), key))


def swept(*numbers: str) -> list[BlacklistEntry]:
    """Blacklist ``numbers`` the way the sweep does: counters over the threshold."""
    r = get_redis()
    for number in numbers:
        r.set(keys.abuse_counter(number), 50)
    abuse_sweep()
    blacklist_flush()
    return [BlacklistEntry.objects.get(mobile=number) for number in numbers]


def lapse(entry: BlacklistEntry) -> None:
    BlacklistEntry.objects.filter(pk=entry.pk).update(expires_at=datetime.now(UTC) - timedelta(minutes=1))


def test_a_sweep_blacklisting_expires_after_abuse_blacklist_days():
    (entry,) = swept("9876543210")

    assert entry.source == "abuse_sweep"
    assert entry.expires_at is not None
    assert abs(entry.expires_at - (entry.created_at + timedelta(days=7))) < timedelta(seconds=5)


def test_the_expiry_follows_the_system_setting():
    system_setting_set(key="abuse_blacklist_days", value=2)

    (entry,) = swept("9876543210")

    assert entry.expires_at is not None
    assert abs(entry.expires_at - (entry.created_at + timedelta(days=2))) < timedelta(seconds=5)


def test_operator_blacklistings_never_expire():
    blacklist_add(mobile=mobile_parse("9876543210"), source="admin", actor="ops")
    blacklist_flush()

    assert BlacklistEntry.objects.get(mobile="9876543210").expires_at is None


def test_lapsed_entries_leave_redis_and_postgres_and_the_history_says_why():
    lapsed, _still_current = swept("9876543210", "9876543211")
    blacklist_add(mobile=mobile_parse("9876543212"), source="admin")
    blacklist_flush()
    lapse(lapsed)

    assert blacklist_expire() == 1

    assert not blacklisted("9876543210")
    assert not BlacklistEntry.objects.filter(mobile="9876543210").exists()
    assert blacklisted("9876543211") and blacklisted("9876543212")
    assert set(BlacklistEntry.objects.values_list("mobile", flat=True)) == {"9876543211", "9876543212"}
    removal = BlacklistAction.objects.get(mobile="9876543210", action="remove")
    assert (removal.source, removal.reason) == ("expiry", "the abuse blacklisting lapsed")
    assert blacklist_expire() == 0  # nothing lapsed is left


def test_a_lapsed_entry_missing_from_redis_still_leaves_postgres():
    (entry,) = swept("9876543210")
    get_redis().srem(keys.blacklist_mobiles(), "9876543210")  # Redis lost it
    lapse(entry)

    blacklist_expire()

    assert not BlacklistEntry.objects.filter(mobile="9876543210").exists()


def test_the_beat_runs_the_expiry_as_a_task_on_the_sweep_cadence():
    entry = celeryconfig.beat_schedule["blacklist-expire"]

    assert entry["task"] == blacklist_expire_task.name
    assert entry["options"]["expires"] >= 1


@pytest.mark.slow
def test_a_worker_runs_the_expiry_task(celery_worker):
    (entry,) = swept("9876543210")
    lapse(entry)

    assert blacklist_expire_task.delay().get(timeout=30) in {0, 1}  # 0: beat's own run came first

    assert not blacklisted("9876543210")
    assert not BlacklistEntry.objects.filter(mobile="9876543210").exists()


# --- the admin -------------------------------------------------------------------------------
def test_the_list_shows_when_each_entry_expires(admin_client):
    (entry,) = swept("9876543210")
    blacklist_add(mobile=mobile_parse("9876543211"), source="admin")
    blacklist_flush()

    page = admin_client.get(CHANGELIST).content.decode()

    assert entry.expires_at is not None and entry.expires_at.strftime("%Y-%m-%d %H:%M UTC") in page
    assert "never (permanent)" in page


def test_an_operator_makes_a_sweep_entry_permanent_and_it_no_longer_lapses(admin_client):
    (entry,) = swept("9876543210")

    response = admin_client.post(
        CHANGELIST, {"action": "make_permanent", "_selected_action": [entry.pk]}, follow=True
    )

    assert "Made 1 entries permanent." in [str(m) for m in response.context["messages"]]
    entry.refresh_from_db()
    assert entry.expires_at is None
    action = BlacklistAction.objects.get(mobile="9876543210", action="permanent")
    assert action.actor == "admin"
    assert blacklist_expire(now=datetime.now(UTC) + timedelta(days=365)) == 0
    assert blacklisted("9876543210")


def test_making_permanent_needs_the_right_to_blacklist(client, django_user_model):
    from django.contrib.auth.models import Permission

    (entry,) = swept("9876543210")
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_blacklistentry"))
    client.force_login(viewer)

    page = client.get(CHANGELIST).content.decode()
    client.post(CHANGELIST, {"action": "make_permanent", "_selected_action": [entry.pk]})

    assert "make_permanent" not in page
    entry.refresh_from_db()
    assert entry.expires_at is not None
