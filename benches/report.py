"""Turns a pytest-benchmark JSON file into the markdown tables of docs/benchmarks.md: the
median of every implementation in each group, records/s where the benchmark says how many
records one round handles, and the ratio of the group's baseline median to this one
(baseline: fastavro, confluent-kafka's serde, raw passthrough, or one thread).

    python benches/report.py .benchmarks/run.json > table.md
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

BASELINES = ("fastavro", "confluent", "1-thread")  # the first one present in a group


def _impl(name: str) -> str:
    return name.rsplit("-", 1)[-1].rstrip("]") if "[" in name else name


def _impl_of(bench: dict[str, Any]) -> str:
    params = bench.get("params") or {}
    return str(params.get("impl") or params.get("mode") or _impl(bench["name"]))


def _fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.2f} µs"


def _fmt_rate(per_second: float) -> str:
    if per_second >= 1e6:
        return f"{per_second / 1e6:.2f} M/s"
    return f"{per_second / 1e3:.1f} k/s"


def render(data: dict[str, Any]) -> str:
    groups: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for bench in data["benchmarks"]:
        groups[bench["group"]][_impl_of(bench)] = bench
    info = data["machine_info"]
    cpu = info.get("cpu", {})
    lines = [
        f"Machine: {cpu.get('brand_raw', '?')}, {cpu.get('count', '?')} logical cores, "
        f"Python {info['python_version']}; run {data['datetime'][:16]} UTC",
        "",
        "| group | implementation | median | records/s | baseline / this |",
        "|---|---|---|---|---|",
    ]
    for group in sorted(groups):
        impls = groups[group]
        baseline = next((b for b in BASELINES if b in impls), None)
        base = impls[baseline]["stats"]["median"] if baseline else None
        for name in sorted(impls, key=lambda n: impls[n]["stats"]["median"]):
            median = impls[name]["stats"]["median"]
            extra = impls[name].get("extra_info", {})
            records = extra.get("records")
            if "records_per_s" in extra:
                # Runs timed by the benchmark itself (end-to-end processes): its own rate.
                rate = _fmt_rate(extra["records_per_s"])
                if "cpu_us_per_record" in extra:
                    rate += f", {extra['cpu_us_per_record']:.2f} µs CPU/record"
                lines.append(f"| {group} | {name} | — | {rate} | — |")
                continue
            rate = _fmt_rate(records / median) if records else ""
            ratio = f"{base / median:.2f}×" if base else "—"
            lines.append(f"| {group} | {name} | {_fmt_time(median)} | {rate} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(json.loads(Path(sys.argv[1]).read_text())))
