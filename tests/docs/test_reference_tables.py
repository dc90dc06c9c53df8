"""The reference tables of the docs, each checked against the code it describes.

docs/pipeline.md's system settings (names and defaults), docs/architecture.md's beat
schedule (entries and tasks), docs/operations.md's commands, docs/benchmark.md's figures.
"""

import json
from pathlib import Path

from django.core.management import get_commands

import celeryconfig
from apps.core.system_settings import default_rows

from .markdown import DOCS, ROOT, code_cell, section, single_code_span, table_rows

PROJECT_APPS = ("apps.",)


def first_column(page: Path, title: str) -> list[str]:
    return [single_code_span(row[0]) or row[0] for row in table_rows(section(page.read_text(), title))]


def test_the_system_settings_table_lists_every_setting_with_its_default() -> None:
    rows = table_rows(section((DOCS / "pipeline.md").read_text(), "System settings"))
    documented = {code_cell(row[0]): code_cell(row[1]) for row in rows}
    defaults = {key: value for key, value, _ in default_rows()}
    assert set(documented) == set(defaults), (
        f"missing: {sorted(set(defaults) - set(documented))}, stale: {sorted(set(documented) - set(defaults))}"
    )
    wrong = {
        key: (shown, defaults[key]) for key, shown in documented.items() if json.loads(shown) != defaults[key]
    }
    assert not wrong, f"defaults in docs/pipeline.md differ from the code (doc, code): {wrong}"


def test_the_beat_table_is_the_beat_schedule() -> None:
    rows = table_rows(section((DOCS / "architecture.md").read_text(), "Background work"))
    documented = {code_cell(row[0]): code_cell(row[1]) for row in rows}
    schedule = {name: entry["task"] for name, entry in celeryconfig.beat_schedule.items()}
    assert documented == schedule


def test_every_project_command_is_in_the_commands_table() -> None:
    ours = {name for name, app in get_commands().items() if app.startswith(PROJECT_APPS)}
    documented = set(first_column(DOCS / "operations.md", "Commands"))
    assert ours - documented == set(), f"add to docs/operations.md: {sorted(ours - documented)}"
    assert documented - ours == set(), f"no such command: {sorted(documented - ours)}"


def test_the_benchmark_page_shows_the_latest_results() -> None:
    results = json.loads((ROOT / "bench" / "results.json").read_text())
    page = (DOCS / "benchmark.md").read_text()
    when = results["when"][:16].replace("T", " ")
    assert f"`bench/results.json` of {when} UTC" in page, f"docs/benchmark.md should show the run of {when}"
    rows = {row[0]: row[1:4] for row in table_rows(section(page, "Latest results"))}
    endpoints = {
        "live": "GET /health/live",
        "register": "GET /onboard/register/{n}",
        "receive": "POST /sms/receive",
    }
    for kind, endpoint in endpoints.items():
        run = results["http"][kind]
        assert rows[f"`{endpoint}`"] == [str(run["requests"]), str(run["errors"]), str(run["rps"])], endpoint
    assert f"{results['monitor_flush']['flush_events_per_second']:,} events/s" in page
    assert f"{results['abuse_sweep']['seconds']} s" in page
    memory = results.get("redis_memory")
    if memory:
        shown = str(memory["default_config"]["bytes_per_pending_registration"])
        assert shown in page, "docs/benchmark.md should show the Redis memory figures of bench/results.json"


def test_the_benchmark_figures_are_those_bench_report_writes_from_the_results() -> None:
    from scripts.bench_report import BEGIN, END, figures

    results = json.loads((ROOT / "bench" / "results.json").read_text())
    page = (DOCS / "benchmark.md").read_text()
    assert f"{BEGIN}\n{figures(results)}\n{END}" in page, "run scripts/bench_report.py"
