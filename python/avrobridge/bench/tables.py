"""The benchmark's outputs: a rich table, JSON for scripts and a bar chart (matplotlib)."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from ..errors import AvroBridgeError
from .impls import BASELINE, IMPLEMENTATIONS, LABELS, MODES, OPERATIONS
from .results import BenchReport, FileMeasurement, Measurement

PLOT_HINT = "pip install 'avrobridge[plot]' (or pip install matplotlib)"
#: One colour per implementation, the same in every group of the chart.
COLORS = {
    "native": "#d62728",
    "avrobridge-fastavro": "#ff9896",
    "fastavro": "#1f77b4",
    "avro": "#2ca02c",
    "confluent-kafka": "#9467bd",
    "passthrough": "#7f7f7f",
}
BRIDGE_LABELS = {
    "passthrough": "bridge loop, bytes unchanged",
    "avrobridge": "avrobridge (native)",
    "fastavro": "bridge loop with fastavro",
}
BRIDGE_COLORS = {"passthrough": "passthrough", "avrobridge": "native", "fastavro": "fastavro"}


class PlotUnavailable(AvroBridgeError, RuntimeError):
    """matplotlib is not installed."""


def operation_label(operation: str, mode: str, records: int) -> str:
    return f"{operation}, one record" if mode == "one" else f"{operation}, batch of {records:,}"


def _ratio(r: float | None) -> str:
    if r is None:
        return "—"
    return f"{r:.2f}×" if r < 10 else f"{r:.1f}×"


def _us(us: float | None) -> str:
    if us is None:
        return "—"
    return f"{us:.3f}" if us < 1 else f"{us:.2f}" if us < 100 else f"{us:,.0f}"


def _rate(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def header_lines(report: BenchReport) -> list[str]:
    return [
        f"machine: {report.machine.describe()}",
        f"versions: {report.machine.describe_versions()}",
        f"workload: {report.workload.describe()}",
    ]


def codec_table(report: BenchReport) -> Table:
    table = Table(
        title="avrobridge bench: serialization throughput (median of repetitions)",
        title_justify="left",
        caption=(
            f"ratios are against {LABELS[BASELINE]} (schemaless_reader/writer); MB/s counts "
            "Avro bytes of the writer schema; 'loop' = no batch API, timed in a Python loop"
        ),
        caption_justify="left",
    )
    table.add_column("operation")
    table.add_column("implementation")
    table.add_column("records/s", justify="right")
    table.add_column("MB/s", justify="right")
    table.add_column("µs/record", justify="right")
    table.add_column(f"vs {BASELINE}", justify="right")
    table.add_column("note", overflow="fold")
    first = True
    for operation in OPERATIONS:
        for mode in MODES:
            rows = [m for m in report.results if m.operation == operation and m.mode == mode]
            if not rows:
                continue
            if not first:
                table.add_section()
            first = False
            label = operation_label(operation, mode, report.workload.records)
            for i, m in enumerate(rows):
                _add_row(table, label if i == 0 else "", m)
    return table


def _add_row(table: Table, label: str, m: Measurement) -> None:
    if m.skipped:
        note = Text(f"skipped: {m.note or 'not measured'}", style="yellow")
        table.add_row(label, Text(m.label, style="dim"), "—", "—", "—", "—", note)
        return
    style = "bold" if m.implementation == "native" else ""
    table.add_row(
        label,
        Text(m.label, style=style),
        _rate(m.records_per_s),
        _rate(m.mb_per_s, 1),
        _us(m.us_per_record),
        Text(_ratio(m.ratio), style=style),
        Text(m.note or "", style="dim"),
    )


def bridge_table(report: BenchReport) -> Table | None:
    if not report.bridge_setup:
        return None
    table = Table(
        title="bridge end to end",
        title_justify="left",
        caption=report.bridge_setup,
        caption_justify="left",
    )
    for name, justify in (
        ("mode", "left"),
        ("records", "right"),
        ("seconds", "right"),
        ("records/s", "right"),
        ("CPU µs/record", "right"),
        ("vs fastavro", "right"),
        ("note", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for b in report.bridge:
        cpu = b.cpu_us_per_record
        table.add_row(
            BRIDGE_LABELS.get(b.mode, b.mode),
            f"{b.records:,}",
            "—" if b.seconds is None else f"{b.seconds:.2f}",
            _rate(b.records_per_s),
            "—" if cpu is None else f"{cpu:.2f}",
            _ratio(b.ratio),
            Text(b.note or "", style="yellow" if b.seconds is None else "dim"),
        )
    return table


def files_table(report: BenchReport) -> Table | None:
    if not report.files:
        return None
    table = Table(
        title="container files: a whole file read into records, or records written into one",
        title_justify="left",
        caption=(
            f"{report.workload.records:,} records; ratios against fastavro.reader/writer; "
            "MB/s counts the file's bytes (each reader reads the file fastavro wrote; blocks "
            "of 64,000 bytes)"
        ),
        caption_justify="left",
    )
    for name, justify in (
        ("operation", "left"),
        ("implementation", "left"),
        ("records/s", "right"),
        ("MB/s", "right"),
        (f"vs {BASELINE}", "right"),
        ("note", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    groups: dict[tuple[str, str], list[FileMeasurement]] = {}
    for f in report.files:
        groups.setdefault((f.operation, f.codec), []).append(f)
    for n, ((operation, codec), rows) in enumerate(groups.items()):
        if n:
            table.add_section()
        label = f"{operation}, {codec} ({rows[0].file_bytes / 1e6:,.1f} MB)"
        for i, f in enumerate(rows):
            if f.skipped:
                note = Text(f"skipped: {f.note or 'not measured'}", style="yellow")
                shown = Text(f.label, style="dim")
                table.add_row(label if i == 0 else "", shown, "—", "—", "—", note)
                continue
            style = "bold" if f.implementation == "native" else ""
            table.add_row(
                label if i == 0 else "",
                Text(f.label, style=style),
                _rate(f.records_per_s),
                _rate(f.mb_per_s, 1),
                Text(_ratio(f.ratio), style=style),
                Text(f.note or "", style="dim"),
            )
    return table


def render(report: BenchReport, console: Console) -> None:
    """The header and the tables."""
    console.print(Group(*(Text(line) for line in header_lines(report))))
    if report.results:
        console.print(codec_table(report))
    files = files_table(report)
    if files is not None:
        console.print(files)
    bridge = bridge_table(report)
    if bridge is not None:
        console.print(bridge)
    console.print(Text(f"benchmark ran in {report.elapsed_s:.1f} s", style="dim"))


def to_json(report: BenchReport) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False)


# -- the chart --------------------------------------------------------------------------


def check_plot_available() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotUnavailable(f"--plot needs matplotlib: {PLOT_HINT}") from None


def _si(value: float) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            scaled = value / limit
            return f"{scaled:.3g}{suffix}"
    return f"{value:.3g}"


def plot(report: BenchReport, path: Path) -> None:
    """A grouped bar chart of records/s: one group per operation (and the bridge), one bar
    per implementation, the value (and ratio to fastavro) written on each bar."""
    check_plot_available()
    from matplotlib.figure import Figure

    groups: list[tuple[str, dict[str, tuple[float | None, float | None]]]] = []
    for operation in OPERATIONS:
        for mode in MODES:
            rows = [m for m in report.results if m.operation == operation and m.mode == mode]
            if rows:
                label = f"{operation}\n" + ("one record" if mode == "one" else "batch")
                groups.append((label, {m.implementation: (m.records_per_s, m.ratio) for m in rows}))
    files: dict[str, dict[str, tuple[float | None, float | None]]] = {}
    for f in report.files:
        files.setdefault(f"{f.operation} file\n{f.codec}", {})[f.implementation] = (
            f.records_per_s,
            f.ratio,
        )
    groups.extend(files.items())
    series = [k for k in IMPLEMENTATIONS if any(k in g for _, g in groups)]
    if report.bridge:
        bridge = {BRIDGE_COLORS[b.mode]: (b.records_per_s, b.ratio) for b in report.bridge}
        groups.append(("bridge\nend to end", bridge))
        if "passthrough" in bridge:
            series.append("passthrough")
    if not groups:
        raise ValueError("nothing was measured")
    values = [v for _, g in groups for v, _ in g.values() if v]
    log = bool(values) and max(values) / max(min(values), 1e-9) > 30

    fig = Figure(figsize=(max(9.0, 1.55 * len(groups) + 3), 7.0), layout="constrained")
    ax = fig.add_subplot()
    width = 0.84 / max(len(series), 1)
    for j, key in enumerate(series):
        xs, ys, labels, missing = [], [], [], []
        for i, (_, g) in enumerate(groups):
            x = i - 0.42 + width * (j + 0.5)
            if key not in g:
                continue
            value, ratio = g[key]
            if value is None:
                missing.append(x)
                continue
            xs.append(x)
            ys.append(value)
            labels.append(_si(value) + ("" if ratio is None else f"  {_ratio(ratio)}"))
        label = LABELS.get(key, "bridge loop, bytes unchanged")
        bars = ax.bar(xs, ys, width * 0.95, label=label, color=COLORS[key])
        ax.bar_label(bars, labels=labels, rotation=90, fontsize=7, padding=3)
        for x in missing:
            ax.text(
                x,
                0.01,
                "n/a",
                transform=ax.get_xaxis_transform(),
                rotation=90,
                ha="center",
                va="bottom",
                fontsize=7,
                color="#555555",
            )
    if log:
        ax.set_yscale("log")
        ax.set_ylim(min(values) / 2, max(values) * 8)
    else:
        ax.set_ylim(0, max(values) * 1.35 if values else 1)
    ax.set_ylabel("records per second" + (" (log scale)" if log else "") + ", higher is better")
    ax.set_xlabel("operation (on each bar: records/s and the ratio to fastavro)")
    ax.set_xticks(range(len(groups)), [label for label, _ in groups])
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    w = report.workload
    name = (w.schema_name or w.schema).rsplit(".", 1)[-1]
    reader = f", read as {Path(w.reader_schema).name}" if w.reader_schema else ""
    ax.set_title(
        f"avrobridge bench: {name} ({w.records:,} records of {w.bytes_per_record:,.0f} bytes"
        f"{reader})\n{report.machine.describe()}",
        fontsize=11,
    )
    fig.legend(loc="outside lower center", ncols=len(series), fontsize=9, frameon=False)
    fig.savefig(path, dpi=110)
