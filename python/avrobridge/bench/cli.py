"""``avrobridge bench``: serialization throughput of avrobridge against fastavro, the avro
package and confluent-kafka's serializers, on generated records of any schema."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from ..cliparser import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, positive_int
from .impls import FILE_OPERATIONS, IMPLEMENTATIONS, MODES, OPERATIONS
from .options import BenchError, BenchFailed, BenchOptions
from .suite import run_bench
from .tables import PlotUnavailable, check_plot_available, plot, render, to_json

DESCRIPTION = """\
Generate records for a schema (or take real ones: --data FILE.avro, --data-topic TOPIC) and
measure decode, encode, resolve (decode with a reader schema) and transcode (framed writer
bytes -> framed reader bytes), one record at a time and in batches, for avrobridge (native
and fastavro backends), fastavro (the baseline of every ratio), the avro package and
confluent-kafka's AvroSerializer/AvroDeserializer; and read and write whole Avro container
files per codec. Every implementation's output is checked against fastavro's before it is
timed; what an implementation cannot do is listed as skipped, with the reason."""

CODECS = ("null", "deflate", "snappy", "zstandard", "bzip2", "xz")


def _choices(allowed: tuple[str, ...]) -> Any:
    def parse(text: str) -> list[str]:
        items = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in items if t not in allowed]
        if bad or not items:
            raise argparse.ArgumentTypeError(
                f"{', '.join(bad) or text!r}: choose from {', '.join(allowed)}"
            )
        return items

    return parse


def add_bench_command(subparsers: Any) -> argparse.ArgumentParser:
    """Adds ``bench`` to the ``avrobridge`` command's subparsers."""
    bench: argparse.ArgumentParser = subparsers.add_parser(
        "bench",
        help="measure serialization throughput against fastavro, avro and confluent-kafka",
        description=DESCRIPTION,
    )
    bench.add_argument(
        "--schema", type=Path, metavar="FILE", help="writer schema (.avsc; default: Employee)"
    )
    data = bench.add_argument_group("real records instead of generated ones")
    data.add_argument(
        "--data",
        type=Path,
        metavar="FILE.avro",
        help="records from an Avro container file (up to --records; its header has the schema)",
    )
    data.add_argument(
        "--data-topic",
        metavar="TOPIC",
        help="records sampled from a topic of Confluent-framed Avro (needs --bootstrap-servers "
        "and --registry; those of the most common schema id are used)",
    )
    data.add_argument(
        "--sample",
        type=positive_int,
        metavar="N",
        help="records to sample from --data-topic (default: --records)",
    )
    data.add_argument(
        "--bootstrap-servers", metavar="HOST:PORT", help="the Kafka cluster of --data-topic"
    )
    bench.add_argument(
        "--reader-schema",
        type=Path,
        metavar="FILE",
        help="reader schema for resolve and transcode (default: the writer schema)",
    )
    bench.add_argument(
        "--records",
        type=positive_int,
        default=BenchOptions.records,
        metavar="N",
        help=f"records generated and used per batch (default {BenchOptions.records:,})",
    )
    bench.add_argument(
        "--seed",
        type=int,
        default=BenchOptions.seed,
        help=f"seed of the generated records (default: {BenchOptions.seed})",
    )
    bench.add_argument(
        "--repetitions",
        type=positive_int,
        default=BenchOptions.repetitions,
        metavar="R",
        help=f"timed repetitions, the median reported (default {BenchOptions.repetitions})",
    )
    bench.add_argument(
        "--implementations",
        type=_choices(IMPLEMENTATIONS),
        default=list(IMPLEMENTATIONS),
        metavar="LIST",
        help=f"comma-separated subset of {','.join(IMPLEMENTATIONS)} (fastavro, the baseline, "
        "is always measured; default: all)",
    )
    bench.add_argument(
        "--operations",
        type=_choices(OPERATIONS + FILE_OPERATIONS),
        default=list(OPERATIONS),
        metavar="LIST",
        help=f"comma-separated subset of {','.join(OPERATIONS + FILE_OPERATIONS)} (default "
        f"{','.join(OPERATIONS)}; read and write: whole container files, per codec)",
    )
    bench.add_argument(
        "--codecs",
        type=_choices(CODECS),
        default=list(BenchOptions.codecs),
        metavar="LIST",
        help=f"codecs of the file operations, of {','.join(CODECS)} "
        f"(default {','.join(BenchOptions.codecs)})",
    )
    bench.add_argument(
        "--modes",
        type=_choices(MODES),
        default=list(MODES),
        metavar="LIST",
        help="one (a call per record), batch (a call per batch), or both (default: both)",
    )
    bench.add_argument(
        "--json", action="store_true", help="print the results as JSON (default: off)"
    )
    bench.add_argument(
        "--plot",
        type=Path,
        metavar="OUT.png",
        help="draw a bar chart, needs matplotlib (default: none)",
    )
    bench.add_argument(
        "--kafka",
        metavar="BOOTSTRAP",
        help="also measure the bridge end to end against this broker, creating topics "
        "(default: none, not measured)",
    )
    bench.add_argument(
        "--kafka-records",
        type=positive_int,
        default=BenchOptions.kafka_records,
        metavar="N",
        help=f"records bridged per mode with --kafka (default {BenchOptions.kafka_records:,})",
    )
    bench.add_argument(
        "--registry",
        metavar="URL",
        help="schema registry for confluent-kafka and --kafka (default: one in-process)",
    )
    bench.set_defaults(handler=bench_command)
    return bench


def options_from_args(args: argparse.Namespace) -> BenchOptions:
    return BenchOptions(
        schema=args.schema,
        reader_schema=args.reader_schema,
        records=args.records,
        seed=args.seed,
        repetitions=args.repetitions,
        implementations=args.implementations,
        operations=args.operations,
        modes=args.modes,
        registry=args.registry,
        kafka=args.kafka,
        kafka_records=args.kafka_records,
        data=args.data,
        data_topic=args.data_topic,
        sample=args.sample,
        bootstrap_servers=args.bootstrap_servers,
        codecs=args.codecs,
    )


def bench_command(args: argparse.Namespace) -> int:
    """The handler of ``avrobridge bench``: 0 on success, 1 when the run fails (an unreachable
    broker or registry), 2 on a usage or setup error (a bad schema file or option)."""
    out = Console(soft_wrap=False)
    if not out.is_terminal:
        out = Console(soft_wrap=False, width=180)  # a file or pipe: no 80-column squeeze
    err = Console(stderr=True)
    prog = "avrobridge bench"
    try:
        if args.plot is not None:
            check_plot_available()
        options = options_from_args(args)

        def progress(message: str) -> None:
            if err.is_terminal:
                err.print(f"[dim]{message}…[/dim]")

        report = run_bench(options, progress)
    except BenchFailed as exc:
        return fail(prog, str(exc), EXIT_FAILED)  # plain: never wrapped
    except (BenchError, PlotUnavailable) as exc:
        return fail(prog, str(exc), EXIT_USAGE)
    if args.json:
        sys.stdout.write(to_json(report) + "\n")
    else:
        render(report, out)
    if args.plot is not None:
        try:
            plot(report, args.plot)
        except (OSError, ValueError) as exc:
            return fail(prog, f"--plot {args.plot}: cannot write it: {exc}", EXIT_USAGE)
        if not args.json:
            out.print(f"chart written to {args.plot}")
    return EXIT_OK
