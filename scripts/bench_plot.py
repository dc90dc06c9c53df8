"""bench/results.png: each endpoint's ratio to /health/live against the 0.7 target, and
the ratios of every run in bench/history.jsonl, so a regression shows at a glance."""

import json
from pathlib import Path
from typing import Any

TARGET = 0.7


def plot(report: dict[str, Any], history: Path, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display: the bench runs in terminals and CI
    import matplotlib.pyplot as plt

    ratios = {k.removesuffix("_vs_live"): v for k, v in report["ratios"].items() if k.endswith("_vs_live")}
    runs = [json.loads(line) for line in history.read_text().splitlines() if line.strip()]
    fig, (bars, lines) = plt.subplots(1, 2, figsize=(13, 5))
    colours = ["tab:green" if v >= TARGET else "tab:red" for v in ratios.values()]
    bars.barh(list(ratios), list(ratios.values()), color=colours)
    bars.axvline(TARGET, color="black", linestyle="--", label=f"target {TARGET}")
    bars.invert_yaxis()
    bars.set_xlabel("req/s as a share of GET /health/live (median of the rounds)")
    bars.set_title(f"{report['when'][:16]} UTC, {report['setup']['server']}")
    bars.legend(loc="lower right")
    for name in ratios:
        xs = [i for i, run in enumerate(runs) if f"{name}_vs_live" in run.get("ratios", {})]
        ys = [runs[i]["ratios"][f"{name}_vs_live"] for i in xs]
        lines.plot(xs, ys, marker="o", label=name)
    lines.axhline(TARGET, color="black", linestyle="--")
    lines.set_xlabel("run (bench/history.jsonl)")
    lines.set_ylabel("ratio to /health/live")
    lines.set_title("history")
    lines.legend(fontsize="small", ncol=2)
    fig.tight_layout()
    out.parent.mkdir(exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)
