"""Admin lists fit a 1280 px wide screen without sideways scrolling (an estimate, no browser).

A table is never narrower than the sum of its columns' narrowest widths: each column's
longest word that cannot break (its header's too), plus the cell padding. The estimate
takes that from the rendered HTML, with the admin stylesheet's sizes below and a
generous width per character, and checks it against the room a 1280 px screen leaves
beside the navigation sidebar and the filters. Rows carry realistic worst cases: long
errors, URLs, names and numbers.
"""

import uuid
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from apps.abuse.services import blacklist_add, blacklist_flush
from apps.core.operator_log import Actor, operator_action_record
from apps.core.phone import mobile_parse
from apps.onboarding.models import OutSms
from tests.factories import CallbackDeliveryFactory, MonitorEventFactory

pytestmark = pytest.mark.django_db

SCREEN = 1280
NAV_SIDEBAR = 275 + 23  # nav_sidebar.css: the sidebar and its toggle
CONTENT_PADDING = 2 * 40  # base.css #content
FILTERS = 240 + 30  # changelists.css #changelist-filter and its margin
SCROLLBAR = 15
# Wider than the average glyph of the admin's fonts (Segoe UI, Roboto, Helvetica, Arial):
# about 6.6 px at 13 px for cells, 7.2 px at 11 px for the upper-case headers.
CELL_PX_PER_CHAR = 7.0
HEADER_PX_PER_CHAR = 7.5
CELL_PADDING = 2 * 10  # th 10 px a side (td has 8)
CHECKBOX = 13
LONG_ERROR = (
    "ConnectionError: HTTPSConnectionPool(host='hooks.acme-corporation.example', port=443): "
    "Max retries exceeded with url: /callbacks/sms-bridge/verified"
)


class _Table(HTMLParser):
    """Per column, the widest unbreakable run of text in #result_list."""

    def __init__(self) -> None:
        super().__init__()
        self.widths: dict[int, float] = {}
        self._in_table = self._column = -1
        self._anywhere_depth = 0
        self._nowrap = False
        self._header = False
        self._fixed = 0.0
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table" and attributes.get("id") == "result_list":
            self._in_table = 1
        elif self._in_table == 1 and tag == "tr":
            self._column = -1
        elif self._in_table == 1 and tag == "thead":
            self._header = True
        elif self._in_table == 1 and tag == "tbody":
            self._header = False
        elif self._in_table == 1 and tag in {"td", "th"}:
            self._column += 1
            self._text = ""
            self._fixed = 0.0
        elif self._in_table == 1 and tag == "input" and attributes.get("type") == "checkbox":
            self._fixed = CHECKBOX
        elif tag == "span" and "overflow-wrap: anywhere" in (attributes.get("style") or ""):
            self._anywhere_depth += 1
        elif tag == "span" and "white-space: nowrap" in (attributes.get("style") or ""):
            self._nowrap = True
        elif tag == "img" and self._in_table == 1:
            self._fixed = CHECKBOX  # a boolean icon

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._in_table == 1:
            self._in_table = 0
        elif tag == "span" and self._nowrap:
            self._nowrap = False
        elif tag == "span" and self._anywhere_depth:
            self._anywhere_depth -= 1
        elif self._in_table == 1 and tag in {"td", "th"}:
            longest = max((len(word) for word in self._text.split()), default=0)
            per_char = HEADER_PX_PER_CHAR if self._header else CELL_PX_PER_CHAR
            width = max(longest * per_char, self._fixed) + CELL_PADDING
            self.widths[self._column] = max(self.widths.get(self._column, 0), width)

    def handle_data(self, data: str) -> None:
        if self._in_table != 1:
            return
        if self._anywhere_depth:  # text that may break anywhere needs a few characters' width
            self._text += " ".join(data.split()[:1])[:4] + " "
        elif self._nowrap:  # text that may not break at all is one long word
            self._text += " " + "_".join(data.split()) + " "
        else:
            self._text += data


def narrowest_width(page: str) -> float:
    table = _Table()
    table.feed(page)
    assert table.widths, "no result list on the page"
    return sum(table.widths.values())


def room(*, filters: bool) -> int:
    return SCREEN - NAV_SIDEBAR - CONTENT_PADDING - SCROLLBAR - (FILTERS if filters else 0)


def seed_callbacks(make_client) -> None:
    creds = make_client(
        "Acme Corporation International", webhook_url="https://hooks.acme-corporation.example/x"
    )
    now = timezone.now()
    for status, error, code in (
        ("failed", LONG_ERROR, None),
        ("pending", "HTTP 503: busy", 503),
        ("delivered", "", 200),
    ):
        CallbackDeliveryFactory.create(
            client_id=creds.id,
            payload={},
            status=status,
            attempts=8,
            last_error=error,
            last_status_code=code,
            next_attempt_at=now,
            delivered_at=now if status == "delivered" else None,
        )


def seed_audit(make_gateway) -> None:
    gateway = make_gateway("android")
    results = dict.fromkeys(
        ["mobile", "foreign_number", "blacklist", "duplicate", "header_hash", "time_window"], 1
    )
    MonitorEventFactory.create(
        status="invalid",
        reason="foreign_number",
        mobile="+14155550123",
        country_code="1",
        gateway_id=str(gateway.id),
        check_results=results,
    )


def seed_blacklist() -> None:
    blacklist_add(
        mobile=mobile_parse("+14155550123"),
        source="abuse_sweep",
        reason="10+ SMS in 24 h",
        actor="os:deploy-automation",
    )
    blacklist_flush()


def seed_verified(make_gateway) -> None:
    gateway = make_gateway("twilio")
    now = timezone.now()
    OutSms.objects.create(
        local_mobile="+14155550123",
        country_code="1",
        sender_number="+14155550123",
        sms_message="ONBOARD:x",
        gateway_id=gateway.id,
        received_at=now - timedelta(seconds=3),
        verified_at=now,
    )


def seed_operator_log() -> None:
    operator_action_record(
        actor=Actor(name="os:deploy-automation", source="command"),
        action="blacklist.make_permanent",
        object_type="number",
        object_label="https://hooks.acme-corporation.example/callbacks/sms-bridge/verified",
        summary=LONG_ERROR,
    )


@pytest.mark.parametrize(
    ("url", "seed"),
    [
        ("/admin/clients/callbackdelivery/", "callbacks"),
        ("/admin/clients/client/", "callbacks"),
        ("/admin/clients/apikey/", "callbacks"),
        ("/admin/audit/monitorevent/", "audit"),
        ("/admin/abuse/blacklistentry/", "blacklist"),
        ("/admin/abuse/blacklistaction/", "blacklist"),
        ("/admin/onboarding/outsms/", "verified"),
        ("/admin/inbound/gateway/", "audit"),
        ("/admin/core/operatoraction/", "operator_log"),
        ("/admin/core/systemsetting/", None),
    ],
)
def test_the_list_fits_a_1280_px_screen(admin_client, make_client, make_gateway, url, seed):
    if seed == "callbacks":
        seed_callbacks(make_client)
    elif seed == "audit":
        seed_audit(make_gateway)
    elif seed == "blacklist":
        seed_blacklist()
    elif seed == "verified":
        seed_verified(make_gateway)
    elif seed == "operator_log":
        seed_operator_log()

    response = admin_client.get(url)
    page = response.content.decode()

    assert response.context["cl"].result_count >= 1
    filters = 'id="changelist-filter"' in page
    width = narrowest_width(page)
    assert width <= room(filters=filters), (
        f"{url}: at least {width:.0f} px wide, {room(filters=filters)} px room"
    )


def test_the_estimate_catches_a_list_that_is_too_wide():
    uuids = " ".join(str(uuid.uuid4()) for _ in range(3))
    page = '<table id="result_list"><tr>' + "".join(f"<td>{u}</td>" for u in uuids.split()) + "</tr></table>"

    assert narrowest_width(page) > room(filters=True)
