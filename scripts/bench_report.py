"""Write the figures of bench/results.json into docs/benchmark.md's "Latest results".

``make bench`` runs it after a full run; ``python scripts/bench_report.py`` writes the
section again from the file as it is. Only the part between the two markers is written:
what the figures mean, below them, is the text of whoever read them.
"""

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "benchmark.md"
BEGIN = "<!-- figures: written by scripts/bench_report.py from bench/results.json -->"
END = "<!-- end of figures -->"

ENDPOINTS = {
    "live": "GET /health/live",
    "register": "GET /onboard/register/{n}",
    "status": "GET /onboard/status/{n}",
    "receive": "POST /sms/receive",
    "android": "POST /sms/receive/android/{id}",
    "twilio": "POST /sms/receive/twilio/{id}",
    "jasmin": "POST /sms/receive/jasmin/{id}",
    "notify": "POST /notifications",
    "otp_request": "POST /otp/request",
    "otp_verify": "POST /otp/verify",
}


def _join(values: list[Any]) -> str:
    return ", ".join(str(v) for v in values)


def header(r: dict[str, Any]) -> str:
    s, when = r["setup"], r["when"][:16].replace("T", " ")
    load = _join(s["load_average"])
    return (
        f"From `bench/results.json` of {when} UTC: {r['machine']['cpus']} CPUs, Python "
        f"{r['machine']['python']}, {s['server']}, wrk with {s['connections']} connections, "
        f"{s['seconds_each']:g} s per endpoint{_between(s)}, {s['rounds']} rounds (load average {load} at "
        "the end: the bench's own server, load generator and worker share the CPUs). The ratios, "
        "each the median of the in-round ratios, are what compare."
    )


def _between(setup: dict[str, Any]) -> str:
    seconds = setup.get("live_seconds_each")  # runs before it compared a round's one live run
    return f" between two {seconds:g} s runs of `/health/live`" if seconds else ""


def http_table(r: dict[str, Any]) -> list[str]:
    rows = ["| endpoint | requests | errors | req/s | vs. `/health/live` | each round |", "| --- " * 6 + "|"]
    for kind, endpoint in ENDPOINTS.items():
        run = r["http"].get(kind)
        if run is None:
            continue
        ratio = 1 if kind == "live" else r["ratios"][f"{kind}_vs_live"]
        each = run["rps_each"] if kind == "live" else run["ratio_each"]
        rows.append(
            f"| `{endpoint}` | {run['requests']} | {run['errors']} | {run['rps']} | {ratio} | {_join(each)} |"
        )
    return rows


def phone_verify_line(r: dict[str, Any]) -> str:
    ours, theirs = r["http"]["otp_verify"]["rps"], r["phone_verify"]["rps"]
    times = r["ratios"]["otp_verify_vs_phone_verify"]
    return (
        f"`POST /otp/verify` against django-phone-verify's verify: {times}x ({ours} against {theirs} req/s)."
    )


def _cpu_row(e: dict[str, Any], cpus: int) -> list[str]:
    """Where the end-to-end run's CPU went (runs before it was measured have no row)."""
    if "web_cpu_ms_per_sms" not in e:
        return []
    budget = round(cpus * 1000 / max(e["sms_per_second"], 1), 3)
    return [
        f"| CPU per judged SMS in that run | web {e['web_cpu_ms_per_sms']} ms, worker "
        f"{e['worker_cpu_ms_per_sms']} ms, Redis {e['redis_cpu_ms_per_sms']} ms (the {cpus} CPUs "
        f"give {budget} ms per SMS at that rate; the load generator takes some) | |"
    ]


def background_table(r: dict[str, Any]) -> list[str]:
    e, f, a = r["end_to_end"], r["monitor_flush"], r["abuse_sweep"]
    sends, out, dur = r["notification_sends"], r["redis_outage"], r["receive_durability"]
    st, rf = out["stopped"], out["refused"]
    return [
        "| measurement | result | target |",
        "| --- | --- | --- |",
        f"| end to end, {e['seconds']:g} s with a Celery worker | {e['sms_per_second']} SMS/s accepted and "
        f"judged ({e['judged']} verdicts; {e['accepted_per_second']} accepted/s) | 1,500 SMS/s |",
        *_cpu_row(e, r["machine"]["cpus"]),
        f"| verdict latency at {e['paced_rate']} SMS/s (asked: 500) | p50 {e['verdict_p50_ms']} ms, "
        f"p99 {e['verdict_p99_ms']} ms ({e['verdicts_timed']} verdicts) | p99 under 1 s |",
        f"| monitor flush, {f['events']:,} events | {f['flush_events_per_second']:,} events/s, against "
        f"{f['copy_rows_per_second']:,} rows/s for a streamed raw COPY of the same rows "
        f"({f['flush_vs_copy']} of COPY; {f['flush_vs_copy_made_first']} of a COPY whose CSV is made "
        f"first, {f['copy_made_first_rows_per_second']:,} rows/s) | 0.85 of COPY |",
        f"| abuse sweep from the notes, {a['offenders']:,} offenders | {a['noted_seconds']} s | "
        "in proportion to the offenders |",
        f"| abuse sweep, full scan of {a['counters']:,} counters | {a['seconds']} s, {a['offenders']:,} "
        "numbers blacklisted | under 2 s |",
        f"| notification sends | {sends['sends_per_second']} /s ({sends['notifications']} through the "
        f"stand-in Android API answering in {sends['provider_latency_ms']:g} ms, {sends['concurrency']} at "
        "once) | |",
        f"| Redis stopped (SIGSTOP) | first request {st['first_ms']} ms (the socket time-out), then 503 in "
        f"{st['then_median_ms']} ms median, {st['then_max_ms']} ms max; `/health` {st['health_first_ms']} ms "
        f"before the breaker opened, then at most {st['health_max_ms']} ms | 503 under 10 ms; `/health` "
        "under 200 ms |",
        f"| Redis refusing connections | first request {rf['first_ms']} ms, then 503 in {rf['then_median_ms']} "
        f"ms median, {rf['then_max_ms']} ms max; `/health` at most {rf['health_first_ms']} ms | as above |",
        f"| receive with `appendfsync always` | {dur['always']['rps']} req/s, {dur['always_vs_everysec']} of "
        f"`everysec` ({dur['everysec']['rps']}) | |",
        f"| receive acknowledged after a replica has it (`INBOUND_ACK_REPLICAS=1`) | "
        f"{dur['replica_ack']['rps']} req/s, {dur['replica_ack_vs_everysec']} of `everysec` | |",
    ]


def memory_table(r: dict[str, Any]) -> list[str]:
    d, c = r["redis_memory"]["default_config"], r["redis_memory"]["deploy_config"]
    return [
        "| Redis memory | default encodings | `deploy/redis.conf` encodings |",
        "| --- | --- | --- |",
        f"| per pending registration | {d['bytes_per_pending_registration']} B | "
        f"{c['bytes_per_pending_registration']} B |",
        f"| the same while its rate-limit state lives (minutes) | "
        f"{d['bytes_per_pending_registration_with_rate_limits']} B | "
        f"{c['bytes_per_pending_registration_with_rate_limits']} B |",
        f"| per verified number | {d['bytes_per_verified_number']} B ({d['mb_per_million_verified']} MB per "
        f"million) | {c['bytes_per_verified_number']} B ({c['mb_per_million_verified']} MB per million) |",
        f"| per event of the history (bounded, so apart from the above) | {d['bytes_per_history_event']} B "
        f"({d['mb_event_history_at_its_bounds']} MB for the feed and one client's history at their default "
        f"bounds) | {c['bytes_per_history_event']} B |",
    ]


def figures(r: dict[str, Any]) -> str:
    parts = [header(r), "\n".join(http_table(r)), phone_verify_line(r)]
    parts += ["\n".join(background_table(r)), "\n".join(memory_table(r))]
    return "\n\n".join(parts)


def main() -> None:
    results = json.loads((ROOT / "bench" / "results.json").read_text())
    page = PAGE.read_text()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(page):
        sys.exit(f"bench_report: {PAGE} has no {BEGIN} ... {END} section")
    PAGE.write_text(pattern.sub(lambda _: f"{BEGIN}\n{figures(results)}\n{END}", page, count=1))


if __name__ == "__main__":
    main()
