"""`avrobridge run`: the bridge from the command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from ..errors import AvroBridgeError, ConfigError
from .config import load_settings


def add_run_command(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="bridge Avro records from source topics to a sink topic in a target schema",
        description=(
            "Consume Confluent-framed Avro records, resolve each to the target schema and "
            "produce it to the sink. Settings come from --config (TOML), AVROBRIDGE_* "
            "environment variables (nested with __) and these options (highest first)."
        ),
    )
    run.add_argument("--config", type=Path, help="TOML settings file")
    run.add_argument("--from", dest="source", nargs="+", metavar="TOPIC", help="source topics")
    run.add_argument("--from-pattern", metavar="REGEX", help="source topics matching a regex")
    run.add_argument("--to", dest="sink", metavar="TOPIC", help="sink topic")
    target = run.add_mutually_exclusive_group()
    target.add_argument("--reader-schema", type=Path, metavar="FILE", help="target schema (.avsc)")
    target.add_argument("--reader-subject", metavar="SUBJECT", help="target schema's subject")
    run.add_argument(
        "--reader-version", default=None, metavar="N|latest", help="version of --reader-subject"
    )
    run.add_argument("--bootstrap-servers", metavar="HOST:PORT")
    run.add_argument("--registry-url", metavar="URL")
    run.add_argument("--group-id")
    run.add_argument(
        "--until-end", action="store_true", help="stop at the end offsets seen at start"
    )
    run.add_argument("--exactly-once", action="store_true", help="transactional delivery")
    run.add_argument("--dead-letter-topic", metavar="TOPIC", help="send bad records here")
    run.add_argument("--errors-tolerance", choices=["none", "all"])
    run.add_argument("--metrics-port", type=int, metavar="PORT", help="serve Prometheus metrics")
    run.add_argument("--log-format", choices=["text", "json"])
    run.add_argument("--stats-interval", type=float, metavar="SECONDS")
    run.add_argument(
        "--summary-format",
        choices=["text", "json"],
        default="text",
        help="how --until-end prints its final summary (json: one line, for scripts)",
    )
    run.add_argument(
        "-X",
        dest="common",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="librdkafka setting for both clients (repeatable; e.g. security.protocol=SSL)",
    )
    run.set_defaults(handler=_run)


def _kv(pairs: list[str], flag: str) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"{flag} {pair!r}: expected KEY=VALUE")
        out[key] = value
    return out


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    o: dict[str, Any] = {}

    def put(path: str, value: Any) -> None:
        if value is None:
            return
        node = o
        *parents, last = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value

    if args.source:
        put("source.topics", args.source)
    put("source.pattern", args.from_pattern)
    put("sink.topic", args.sink)
    put("value.schema_file", args.reader_schema)
    put("value.subject", args.reader_subject)
    if args.reader_version is not None:
        version = args.reader_version
        put("value.version", version if version == "latest" else int(version))
    put("kafka.bootstrap_servers", args.bootstrap_servers)
    put("registry.url", args.registry_url)
    put("kafka.group_id", args.group_id)
    if args.until_end:
        put("until_end", True)
    if args.exactly_once:
        put("delivery.guarantee", "exactly-once")
    put("errors.dead_letter_topic", args.dead_letter_topic)
    if args.dead_letter_topic and args.errors_tolerance is None:
        put("errors.tolerance", "all")
    put("errors.tolerance", args.errors_tolerance)
    put("observability.metrics_port", args.metrics_port)
    put("observability.log_format", args.log_format)
    put("observability.stats_interval_s", args.stats_interval)
    if args.common:
        put("kafka.common", _kv(args.common, "-X"))
    return o


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload)


def configure_logging(fmt: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("avrobridge")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _run(args: argparse.Namespace) -> int:
    from .progress import progress_reporter
    from .runner import Bridge

    try:
        settings = load_settings(args.config, **_overrides(args))
    except ConfigError as exc:
        print(f"avrobridge: {exc}", file=sys.stderr)
        return 2
    obs = settings.observability
    configure_logging(obs.log_format, obs.log_level)
    bridge = Bridge(settings, install_signal_handlers=True)
    try:
        bridge.validate()
    except ConfigError as exc:
        print(f"avrobridge: {exc}", file=sys.stderr)
        return 2
    if obs.metrics_port is not None:
        bridge.metrics.serve(obs.metrics_port, obs.metrics_host)
    with progress_reporter(settings) as report:
        bridge.on_progress = report
        try:
            summary = bridge.run()
        except AvroBridgeError as exc:
            logging.getLogger("avrobridge.bridge").error("%s", exc)
            print(f"avrobridge: {exc}", file=sys.stderr)
            return 1
    if settings.until_end:
        if args.summary_format == "json":
            print(json.dumps(summary.to_json()))
        else:
            print("\n".join(summary.lines()))
    return 0
