"""Small charts for the operator dashboard, drawn on the server as inline SVG.

No JavaScript library and no static assets: the page stays one response, renders with
scripts blocked, and a chart is a string a test can read.
"""

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 230
LEFT, RIGHT, TOP, BOTTOM = 48, 10, 14, 42  # room for the axis labels
LABEL_EVERY_HOURS = 3


class HourBars(Protocol):
    @property
    def hour(self) -> datetime: ...
    @property
    def valid(self) -> int: ...
    @property
    def invalid(self) -> int: ...


def verdicts_chart(*, hours: Sequence[HourBars], zone: str) -> SafeString:
    """Valid and invalid verdicts side by side for each hour, with a labelled count axis
    and hour axis; each bar has a tooltip (``<title>``) with its hour and count."""
    top = _nice_ceiling(max((max(h.valid, h.invalid) for h in hours), default=0))
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(hours))
    parts = [
        f'<svg class="dash-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="Valid and invalid verdicts per hour, last {len(hours)} hours">',
        *_count_axis(top),
        *_hour_axis(hours, slot, zone),
    ]
    for index, hour in enumerate(hours):
        x = LEFT + index * slot
        parts.append(_bar(x + slot * 0.12, slot * 0.36, hour.valid, top, "valid", hour.hour))
        parts.append(_bar(x + slot * 0.52, slot * 0.36, hour.invalid, top, "invalid", hour.hour))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped


def _nice_ceiling(peak: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above ``peak`` (at least 1)."""
    if peak <= 1:
        return 1
    power = 10 ** math.floor(math.log10(peak))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= peak)


def _y(count: float, top: int) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - count / top)


def _count_axis(top: int) -> list[str]:
    ticks = sorted({0, top // 2, top} if top >= 2 else {0, top})
    lines = []
    for tick in ticks:
        y = _y(tick, top)
        lines.append(
            f'<line class="dash-grid-line" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        lines.append(
            f'<text class="dash-axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    middle = (TOP + HEIGHT - BOTTOM) / 2
    lines.append(
        f'<text class="dash-axis-title" transform="translate(12 {middle:.1f}) rotate(-90)" '
        f'text-anchor="middle">verdicts per hour</text>'
    )
    return lines


def _hour_axis(hours: Sequence[HourBars], slot: float, zone: str) -> list[str]:
    base = HEIGHT - BOTTOM
    lines = [f'<line class="dash-axis-line" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}"/>']
    for index, hour in enumerate(hours):
        if hour.hour.hour % LABEL_EVERY_HOURS == 0:
            x = LEFT + (index + 0.5) * slot
            label = hour.hour.strftime("%H:00")
            lines.append(
                f'<text class="dash-axis" x="{x:.1f}" y="{base + 15}" text-anchor="middle">{label}</text>'
            )
    lines.append(
        f'<text class="dash-axis-title" x="{(LEFT + WIDTH - RIGHT) / 2:.1f}" y="{HEIGHT - 6}" '
        f'text-anchor="middle">hour ({escape(zone)})</text>'
    )
    return lines


def _bar(x: float, width: float, count: int, top: int, kind: str, hour: datetime) -> str:
    y = _y(count, top)
    tooltip = escape(f"{hour:%a %H:00}: {count} {kind}")
    return (
        f'<rect class="dash-bar-{kind}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
        f'height="{HEIGHT - BOTTOM - y:.1f}"><title>{tooltip}</title></rect>'
    )
