"""The abuse sweep blacklists the numbers the pipeline noted, and scans every counter only
when the notes cannot be trusted (a lowered threshold, no full scan on record)."""

import pytest

from apps.abuse.services import abuse_sweep
from apps.core import keys
from apps.core.redis import get_redis
from apps.core.system_settings import system_setting_set, system_settings_get
from apps.onboarding.services.pipeline import sms_validate_pending
from tests.helpers import send_native

pytestmark = pytest.mark.django_db

NUMBER = "9876543210"


@pytest.fixture
def gateway(make_gateway):
    return make_gateway("native")


def fail(api, gateway, number: str, times: int, first: int = 0) -> None:
    for n in range(first, first + times):
        send_native(api, gateway.secret, number, "junk", message_id=f"{number}-{n}")
    sms_validate_pending()


def sweep_counting_scans() -> tuple[int, list[int]]:
    pages: list[int] = []
    return abuse_sweep(progress=pages.append), pages


def blacklisted(number: str) -> bool:
    return bool(get_redis().sismember(keys.blacklist_mobiles(), number))


def test_the_pipeline_notes_a_number_when_its_counter_reaches_the_threshold(api, gateway):
    system_setting_set(key="abuse_threshold", value=3)

    fail(api, gateway, NUMBER, 2)
    assert not get_redis().sismember(keys.abuse_offenders(), NUMBER)

    fail(api, gateway, NUMBER, 1, first=2)  # a later batch: the counter read before it was 2
    assert get_redis().sismember(keys.abuse_offenders(), NUMBER)


def test_a_number_crossing_the_threshold_is_blacklisted_by_the_sweep_without_a_scan(api, gateway):
    system_setting_set(key="abuse_threshold", value=3)
    abuse_sweep()  # the full scan on record, at this threshold
    get_redis().set(keys.abuse_counter("9000000001"), 1)  # a counter a scan would visit

    fail(api, gateway, NUMBER, 3)
    added, scanned_pages = sweep_counting_scans()

    assert added == 1 and blacklisted(NUMBER)
    assert scanned_pages == []  # blacklisted from the note alone
    assert not get_redis().sismember(keys.abuse_offenders(), NUMBER)


def test_a_lowered_threshold_is_still_found_by_the_scan(api, gateway):
    system_setting_set(key="abuse_threshold", value=5)
    fail(api, gateway, NUMBER, 3)
    assert abuse_sweep() == 0  # first sweep: a full scan at 5, nothing over it
    assert not get_redis().sismember(keys.abuse_offenders(), NUMBER)

    system_setting_set(key="abuse_threshold", value=3)
    added, scanned_pages = sweep_counting_scans()

    assert added == 1 and blacklisted(NUMBER)
    assert scanned_pages  # the notes knew nothing of a threshold of 3
    assert sweep_counting_scans() == (0, [])  # scanned at 3 already: notes only from now on


def test_a_noted_number_under_a_raised_threshold_is_not_blacklisted(api, gateway):
    system_setting_set(key="abuse_threshold", value=3)
    fail(api, gateway, NUMBER, 3)
    system_setting_set(key="abuse_threshold", value=10)
    assert system_settings_get().abuse_threshold == 10

    assert abuse_sweep() == 0
    assert not blacklisted(NUMBER)
    assert not get_redis().sismember(keys.abuse_offenders(), NUMBER)


def test_the_full_scan_blacklists_every_counter_at_the_threshold_across_pages(monkeypatch):
    system_setting_set(key="abuse_threshold", value=3)
    monkeypatch.setattr("apps.abuse.services.SCAN_PAGE", 50)
    monkeypatch.setattr("apps.abuse.services.EXTEND_EVERY", 0)  # renewed after every page
    r = get_redis()
    offenders = {f"90000{n:05d}" for n in range(0, 1500, 2)}  # 750: more than one blacklist call
    with r.pipeline(transaction=False) as pipe:
        for n in range(1500):
            number = f"90000{n:05d}"
            pipe.set(keys.abuse_counter(number), 3 + n % 4 if number in offenders else 2)
        pipe.set("not_a_counter:9000000000", 99)
        pipe.execute()

    added, scanned = sweep_counting_scans()

    assert added == len(offenders)
    assert set(r.smembers(keys.blacklist_mobiles())) == offenders
    assert len(scanned) > 1 and scanned[-1] == 1500  # progress after each page, counting counters only
    assert sweep_counting_scans() == (0, [])  # on record now: notes only
