"""Backfill from container files beside the topic-to-topic bridge: the same Employee v2
records, bridged to v1 by `avrobridge run`, each run its own process on the same broker:

- ``topic``: `avrobridge run --from TOPIC --until-end` (the reference, as bridge_e2e.py);
- ``files-null``, ``files-deflate``: `avrobridge run --from-files 'DIR/*.avro'` over the
  records written to four container files with that codec (by avrobridge).

Records/s and CPU per record (whole process, and the loop alone as the summary reports it);
every sink is read back: the count, and every value decodes with the target schema under the
id it carries (bridge_e2e.check_sink).

By hand (starts its own broker unless given one)::

    python benches/bridge_backfill.py --records 1000000 [--bootstrap HOST:PORT]

benches/test_bench_backfill.py runs the same functions under pytest-benchmark.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import avrobridge as ab
from avrobridge import ocf
from bridge_e2e import (
    LoopResult,
    check_sink,
    employee,
    fill,
    loop_command,
    new_topic,
    run_command,
    schemas,
    services,
    warm_up,
)

RUNS = ("topic", "files-null", "files-deflate")
FILES = 4


def write_files(directory: Path, n: int, codec: str) -> None:
    """`n` Employee v2 records (the topic's, in the same order) over FILES files."""
    writer, _ = schemas()
    schema = ab.Schema(writer)
    per_file = -(-n // FILES)
    for f in range(FILES):
        start, stop = f * per_file, min(n, (f + 1) * per_file)
        with ocf.ContainerWriter(str(directory / f"dump-{f}.avro"), schema, codec=codec) as w:
            for chunk in range(start, stop, 10_000):
                w.write_many([employee(i) for i in range(chunk, min(stop, chunk + 10_000))])


def backfill_command(
    bootstrap: str, registry_url: str, files: Path, sink: str, reader: Path
) -> list[str]:
    return [
        sys.executable, "-m", "avrobridge.cli", "run", "--from-files", str(files / "*.avro"),
        "--to", sink, "--reader-schema", str(reader), "--bootstrap-servers", bootstrap,
        "--registry-url", registry_url, "--group-id", f"{sink}-group",
        "--progress-topic", f"{sink}-progress", "--json",
    ]  # fmt: skip


def compare(
    bootstrap: str, registry_url: str, n: int, runs: tuple[str, ...] = RUNS, warm: int = 150_000
) -> list[LoopResult]:
    with tempfile.TemporaryDirectory() as tmp:
        reader = Path(tmp) / "employee_v1.avsc"
        reader.write_text(json.dumps(schemas()[1]))
        if warm:
            warm_up(bootstrap, registry_url, reader, warm)
        results = []
        for run in runs:
            sink = new_topic(bootstrap, f"backfill-sink-{run}")
            if run == "topic":
                source = new_topic(bootstrap, "backfill-source")
                fill(bootstrap, registry_url, source, n)
                cmd = loop_command("avrobridge", bootstrap, registry_url, source, sink, reader)
            else:
                files = Path(tmp) / run
                files.mkdir()
                write_files(files, n, run.removeprefix("files-"))
                cmd = backfill_command(bootstrap, registry_url, files, sink, reader)
            result = run_command(run, cmd, n)
            result.note = "; ".join(
                x
                for x in (result.note, check_sink(bootstrap, registry_url, sink, n, "avrobridge"))
                if x
            )
            results.append(result)
        return results


def backfill_table(results: list[LoopResult]) -> str:
    topic = next((r for r in results if r.loop == "topic"), None)
    lines = [
        "| run | records/s | vs topic | CPU µs/record (process) | CPU µs/record (loop) "
        "| vs topic (loop CPU) | peak RSS MB | check |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        loop_cpu = r.loop_cpu_us_per_record
        ref_cpu = topic.loop_cpu_us_per_record if topic else None
        lines.append(
            f"| {r.loop} | {r.records_per_s:,.0f} | "
            f"{f'{r.records_per_s / topic.records_per_s:.2f}×' if topic else '—'} | "
            f"{r.cpu_us_per_record:.2f} | {f'{loop_cpu:.2f}' if loop_cpu else '—'} | "
            f"{f'{loop_cpu / ref_cpu:.2f}×' if loop_cpu and ref_cpu else '—'} | "
            f"{f'{r.peak_rss_mb:.0f}' if r.peak_rss_mb else '—'} | {r.note or 'ok'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bootstrap", help="an existing broker (default: start one)")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", default=",".join(RUNS))
    parser.add_argument("--warm", type=int, default=150_000, help="records of the warm-up run")
    args = parser.parse_args()
    with services(args.bootstrap) as (bootstrap, registry_url):
        runs = tuple(x for x in args.runs.split(",") if x)
        print(backfill_table(compare(bootstrap, registry_url, args.records, runs, args.warm)))


if __name__ == "__main__":
    main()
