"""Markdown tables from runner output (JSON lines), for docs/performance.md.

    python -m benchmarks report FILE.jsonl [FILE.jsonl …]

One column per file (its database and N), one row per measurement:
p50 (ms) and ratio to the floor for latencies, ops/s and ratio for throughputs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.runner import TARGETS

ORDER = [
    "queue_first_page",
    "queue_filtered_name",
    "queue_filtered_professional",
    "queue_sorted_waiting",
    "case_open",
    "metrics_warm",
    "metrics_cold",
    "matricule_step",
    "declaration",
    "floor_dash_noop",
    "floor_dash_noop_serial",
    "server_peak_rss_mb",
    "inproc.queue_first_page",
    "inproc.queue_filtered_name",
    "inproc.queue_filtered_professional",
    "inproc.queue_sorted_waiting",
    "inproc.case_open",
    "inproc.metrics_cold",
    "inproc.metrics_warm",
    "inproc.metrics_all_time",
    "inproc.access_metrics",
]


def cell(line: dict | None) -> str:
    if line is None:
        return ""
    if line.get("value") is not None:
        return f"{line['value']:.0f} MB"
    kind = line["extra"].get("kind")
    ratio = line.get("ratio_to_floor")
    mark = ""
    if line["extra"].get("target_met") is False:
        mark = " ✗"
    elif line["extra"].get("target_met") is True:
        mark = " ✓"
    if kind == "throughput":
        main = f"{line['ops_per_s']:.0f}/s"
    else:
        p50 = line["p50_ms"]
        main = f"{p50:,.0f} ms" if p50 >= 100 else f"{p50:.1f} ms"
    return main + (f" (×{ratio:g}{mark})" if ratio is not None else "")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks report")
    p.add_argument("files", nargs="+")
    args = p.parse_args(argv)
    columns = []
    for name in args.files:
        lines = [json.loads(x) for x in Path(name).read_text().splitlines() if x.strip()]
        by_name = {line["name"]: line for line in lines}
        first = lines[0]
        columns.append((f"{first['database']} {first['n']:,}", by_name))
    print("| measurement | target | " + " | ".join(c for c, _ in columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    names = [n for n in ORDER if any(n in c for _, c in columns)]
    names += sorted({n for _, c in columns for n in c} - set(names))
    for name in names:
        target = TARGETS.get(name)
        t = ""
        if target is not None:
            t = (
                f"ops ≥ floor/{target}"
                if name in ("matricule_step", "declaration")
                else f"≤ ×{target}"
            )
        elif name == "server_peak_rss_mb":
            t = "≤ 400 MB"
        print(f"| {name} | {t} | " + " | ".join(cell(c.get(name)) for _, c in columns) + " |")
    return 0
