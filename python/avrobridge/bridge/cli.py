"""`avrobridge run` and `avrobridge plan`: the bridge from the command line.

Order of work: settings (exit 2 naming the option and TOML key), local checks of files and
librdkafka properties (exit 2, nothing has connected yet), then the broker and the registry
within the start-up timeout, then the plan or the run (exit 1 on a failure). Each failure is
reported once, on stderr (as a JSON log line with ``--log-format json``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..cliparser import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, positive_int, subject_version
from ..errors import AvroBridgeError, ConfigError
from .config import BridgeSettings, SettingsError, load_settings

log = logging.getLogger("avrobridge.bridge")

#: TOML key -> (the option that sets it, its argparse dest): messages name what to fix.
OPTION_FOR: dict[str, tuple[str, str]] = {
    "source.topics": ("--from", "source"),
    "source.pattern": ("--from-pattern", "from_pattern"),
    "source.files": ("--from-files", "from_files"),
    "sink.topic": ("--to", "sink"),
    "sink.directory": ("--to-files", "to_files"),
    "files.roll_records": ("--roll-records", "roll_records"),
    "files.roll_bytes": ("--roll-bytes", "roll_bytes"),
    "files.codec": ("--file-codec", "file_codec"),
    "files.progress_topic": ("--progress-topic", "progress_topic"),
    "value.schema_file": ("--reader-schema", "reader_schema"),
    "value.subject": ("--reader-subject", "reader_subject"),
    "value.version": ("--reader-version", "reader_version"),
    "value.mode": ("--copy", "copy"),
    "sink.kafka.bootstrap_servers": ("--sink-bootstrap-servers", "sink_bootstrap_servers"),
    "sink.registry.url": ("--sink-registry-url", "sink_registry_url"),
    "kafka.bootstrap_servers": ("--bootstrap-servers", "bootstrap_servers"),
    "kafka.group_id": ("--group-id", "group_id"),
    "kafka.common": ("-X", "common"),
    "registry.url": ("--registry-url", "registry_url"),
    "until_end": ("--until-end", "until_end"),
    "delivery.guarantee": ("--exactly-once", "exactly_once"),
    "errors.dead_letter_topic": ("--dead-letter-topic", "dead_letter_topic"),
    "errors.tolerance": ("--errors-tolerance", "errors_tolerance"),
    "errors.startup_timeout_s": ("--startup-timeout", "startup_timeout"),
    "errors.retry_timeout_s": ("--retry-timeout", "retry_timeout"),
    "observability.metrics_port": ("--metrics-port", "metrics_port"),
    "observability.log_format": ("--log-format", "log_format"),
    "observability.log_level": ("--log-level", "log_level"),
    "observability.stats_interval_s": ("--stats-interval", "stats_interval"),
    "observability.progress_interval_s": ("--progress-interval", "progress_interval"),
}

#: Required sections, named by what gives them.
_SECTIONS = {
    "source": (
        "--from TOPIC..., --from-pattern REGEX or --from-files GLOB...",
        "source.topics, source.pattern or source.files",
    ),
    "sink": (
        "--to TOPIC or --to-files DIR",
        "sink.topic, sink.mapping, sink.rename or sink.directory",
    ),
    "value": (
        "--reader-schema FILE or --reader-subject SUBJECT",
        "value.schema_file or value.subject",
    ),
}


def _default(key: str) -> str:
    """The model's default of a TOML key, as help shows it."""
    model: type[BaseModel] = BridgeSettings
    *sections, name = key.split(".")
    for section in sections:
        annotation = model.model_fields[section].annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation
    value = model.model_fields[name].default
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _setting(key: str, default: str | None = None) -> str:
    return f"TOML {key}; default: {default if default is not None else _default(key)}"


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a positive number of seconds")
    return value


def _bridge_options(p: argparse.ArgumentParser) -> None:
    """The options `run` and `plan` share: every setting of a run."""
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML settings file; AVROBRIDGE_* environment variables override it, and these "
        "options override both (default: none)",
    )
    where = p.add_argument_group("what to bridge")
    where.add_argument(
        "--from",
        dest="source",
        nargs="+",
        metavar="TOPIC",
        help="source topics (TOML source.topics; required: this, --from-pattern or the TOML)",
    )
    where.add_argument(
        "--from-pattern",
        metavar="REGEX",
        help=f"source topics matching a regular expression ({_setting('source.pattern')})",
    )
    where.add_argument(
        "--to",
        dest="sink",
        metavar="TOPIC",
        help="sink topic (TOML sink.topic; required: this, or sink.mapping or sink.rename "
        "in the TOML)",
    )
    _file_options(p, where)
    target = where.add_mutually_exclusive_group()
    target.add_argument(
        "--reader-schema",
        type=Path,
        metavar="FILE",
        help="target schema file, .avsc (TOML value.schema_file; required: this or "
        "--reader-subject)",
    )
    target.add_argument(
        "--reader-subject",
        metavar="SUBJECT",
        help=f"target schema registered under this subject ({_setting('value.subject')})",
    )
    target.add_argument(
        "--copy",
        action="store_true",
        default=None,
        help="no target schema: keep each record's bytes and writer schema, registered under "
        "the sink subject in the sink registry; only the schema id in the frame changes "
        '(TOML value.mode = "copy"; default: off)',
    )
    where.add_argument(
        "--reader-version",
        type=subject_version,
        metavar="N|latest",
        help=f"version of --reader-subject ({_setting('value.version')})",
    )
    conn = p.add_argument_group("connections")
    conn.add_argument(
        "--bootstrap-servers",
        metavar="HOST:PORT[,...]",
        help=f"Kafka brokers ({_setting('kafka.bootstrap_servers')})",
    )
    conn.add_argument(
        "--registry-url",
        metavar="URL",
        help=f"schema registry ({_setting('registry.url')})",
    )
    conn.add_argument(
        "--sink-bootstrap-servers",
        metavar="HOST:PORT[,...]",
        help="the sink cluster's brokers, when it is not the source's (TOML "
        "sink.kafka.bootstrap_servers, with its own [sink.kafka.common]/[sink.kafka.producer]; "
        "default: --bootstrap-servers)",
    )
    conn.add_argument(
        "--sink-registry-url",
        metavar="URL",
        help="the sink's schema registry, when it is not the source's (TOML sink.registry.url; "
        "default: --registry-url)",
    )
    conn.add_argument(
        "--group-id",
        metavar="ID",
        help=f"consumer group, whose committed offsets say where to start "
        f"({_setting('kafka.group_id')})",
    )
    conn.add_argument(
        "-X",
        dest="common",
        action="append",
        metavar="KEY=VALUE",
        help="librdkafka setting for both clients, repeatable, e.g. security.protocol=SSL "
        "(TOML [kafka.common]; default: none)",
    )
    conn.add_argument(
        "--startup-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="give up at start when the broker or the registry has not answered for this "
        f"long ({_setting('errors.startup_timeout_s')})",
    )
    conn.add_argument(
        "--retry-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="give up when the broker or the registry fails for this long during the run "
        f"({_setting('errors.retry_timeout_s')})",
    )
    how = p.add_argument_group("how")
    how.add_argument(
        "--until-end",
        action="store_true",
        default=None,
        help="stop at the end offsets seen at start: a one-off migration, with progress "
        f"and a summary ({_setting('until_end')})",
    )
    how.add_argument(
        "--exactly-once",
        action="store_true",
        default=None,
        help='transactional delivery (TOML delivery.guarantee = "exactly-once"; default: '
        "at-least-once)",
    )
    how.add_argument(
        "--dead-letter-topic",
        metavar="TOPIC",
        help="records that cannot be converted go here, and the run goes on; implies "
        f"--errors-tolerance all ({_setting('errors.dead_letter_topic')})",
    )
    how.add_argument(
        "--errors-tolerance",
        choices=["none", "all"],
        help="none: stop at the first record that cannot be converted; all: send it to the "
        f"dead-letter topic ({_setting('errors.tolerance')})",
    )
    obs = p.add_argument_group("output")
    obs.add_argument(
        "--log-format",
        choices=["text", "json"],
        help=f"log lines on stderr ({_setting('observability.log_format')})",
    )
    obs.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help=f"{_setting('observability.log_level')}",
    )
    obs.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help=f"serve Prometheus metrics on this port ({_setting('observability.metrics_port')})",
    )
    obs.add_argument(
        "--stats-interval",
        type=_seconds,
        metavar="SECONDS",
        help=f"log a stats line this often ({_setting('observability.stats_interval_s')})",
    )
    obs.add_argument(
        "--progress-interval",
        type=_seconds,
        metavar="SECONDS",
        help="with --until-end and stderr not a terminal: a progress line this often "
        f"({_setting('observability.progress_interval_s')})",
    )


def _file_options(p: argparse.ArgumentParser, where: Any) -> None:
    """Container files as the source (backfill) or the sink (export)."""
    where.add_argument(
        "--from-files",
        nargs="+",
        metavar="GLOB",
        help="backfill from Avro container files instead of topics: paths or quoted glob "
        "patterns, read in name order; resumable, always bounded (TOML source.files; "
        "default: none)",
    )
    where.add_argument(
        "--to-files",
        type=Path,
        metavar="DIR",
        help="export to rolling Avro container files TOPIC+PARTITION+FIRSTOFFSET.avro in "
        "this directory instead of a topic (TOML sink.directory; default: none)",
    )
    files = p.add_argument_group("files")
    files.add_argument(
        "--roll-records",
        type=positive_int,
        metavar="N",
        help=f"export: close a file at this many records ({_setting('files.roll_records')})",
    )
    files.add_argument(
        "--roll-bytes",
        type=positive_int,
        metavar="BYTES",
        help=f"export: close a file at this size ({_setting('files.roll_bytes')})",
    )
    files.add_argument(
        "--file-codec",
        choices=["null", "deflate", "snappy", "zstandard", "bzip2", "xz"],
        help=f"export: the files' codec ({_setting('files.codec')})",
    )
    files.add_argument(
        "--progress-topic",
        metavar="TOPIC",
        help="backfill: compacted topic where the files and blocks done are recorded "
        f"({_setting('files.progress_topic')})",
    )


def add_run_command(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="bridge Avro records from source topics to a sink topic in a target schema",
        description=(
            "Consume Confluent-framed Avro records, resolve each to the target schema and "
            "produce it to the sink. Settings come from these options, AVROBRIDGE_* "
            "environment variables (nested with __) and --config (TOML), highest first. "
            "Before consuming, the target is checked against every live version of the "
            "source subjects (see avrobridge plan)."
        ),
    )
    _bridge_options(run)
    out = run.add_argument_group("plan first")
    out.add_argument(
        "--dry-run",
        action="store_true",
        help="show the plan (what avrobridge plan shows) and stop: nothing is produced "
        "(default: off)",
    )
    out.add_argument(
        "--json",
        action="store_true",
        help="print the plan (--dry-run) or the final summary (--until-end) as JSON (default: off)",
    )
    run.set_defaults(handler=_run, plan=False)


def add_plan_command(sub: Any) -> None:
    plan = sub.add_parser(
        "plan",
        help="show what a run would do: each live writer version, its changes, the sink",
        description=(
            "Takes the settings of avrobridge run and shows, without producing anything: "
            "the source topics and their subjects; the records per partition up to the end "
            "offsets; for each live writer schema version (by id and version) whether the "
            "target can read it and what changes for its records (fields dropped, filled "
            "from defaults, promoted, renamed through aliases, enum symbols read as the "
            "default); and the sink subject, with whether the target is compatible with it "
            "at its compatibility level. Exit status 0 when the run would succeed, 1 when "
            "it would not (the reasons are listed)."
        ),
    )
    _bridge_options(plan)
    plan.add_argument("--json", action="store_true", help="print the plan as JSON (default: off)")
    plan.set_defaults(handler=_run, plan=True, dry_run=True)


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

    put("source.topics", args.source)
    put("source.pattern", args.from_pattern)
    put("source.files", args.from_files)
    put("sink.topic", args.sink)
    put("sink.directory", args.to_files)
    put("files.roll_records", args.roll_records)
    put("files.roll_bytes", args.roll_bytes)
    put("files.codec", args.file_codec)
    put("files.progress_topic", args.progress_topic)
    put("value.schema_file", args.reader_schema)
    put("value.subject", args.reader_subject)
    put("value.version", args.reader_version)
    put("kafka.bootstrap_servers", args.bootstrap_servers)
    put("registry.url", args.registry_url)
    put("sink.kafka.bootstrap_servers", args.sink_bootstrap_servers)
    put("sink.registry.url", args.sink_registry_url)
    if args.copy:
        put("value.mode", "copy")
    put("kafka.group_id", args.group_id)
    put("until_end", args.until_end)
    if args.exactly_once:
        put("delivery.guarantee", "exactly-once")
    put("errors.dead_letter_topic", args.dead_letter_topic)
    if args.dead_letter_topic and args.errors_tolerance is None:
        put("errors.tolerance", "all")
    put("errors.tolerance", args.errors_tolerance)
    put("errors.startup_timeout_s", args.startup_timeout)
    put("errors.retry_timeout_s", args.retry_timeout)
    put("observability.metrics_port", args.metrics_port)
    put("observability.log_format", args.log_format)
    put("observability.log_level", args.log_level)
    put("observability.stats_interval_s", args.stats_interval)
    put("observability.progress_interval_s", args.progress_interval)
    if args.common:
        put("kafka.common", _kv(args.common, "-X"))
    return o


def describe_settings_error(exc: SettingsError) -> str:
    """The problems, each named by the option that fixes it and its TOML key."""
    lines = []
    for key, message, kind in exc.problems:
        what = "missing" if kind == "missing" else message
        section = _SECTIONS.get(key)
        if section is not None:
            lines.append(f"  {section[0]} (TOML {section[1]}): {what}")
        elif key in OPTION_FOR:
            lines.append(f"  {OPTION_FOR[key][0]} (TOML {key}): {what}")
        else:
            env = "AVROBRIDGE_" + key.upper().replace(".", "__")
            lines.append(f"  TOML {key} (or {env}): {what}")
    missing = all(kind == "missing" for _, _, kind in exc.problems)
    head = "missing settings" if missing else "invalid settings"
    return f"{head} (options, AVROBRIDGE_* variables or --config TOML):\n" + "\n".join(lines)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            payload.update(fields)
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


def _labels(args: argparse.Namespace) -> Any:
    """Names a setting by the option that set it, else by its TOML key."""

    def label(key: str) -> str:
        option = OPTION_FOR.get(key)
        if option is not None and getattr(args, option[1], None) is not None:
            return option[0]
        return key

    return label


def _run(args: argparse.Namespace) -> int:
    from .startup import check_local

    prog = "avrobridge plan" if args.plan else "avrobridge run"
    try:
        settings = load_settings(args.config, **_overrides(args))
    except SettingsError as exc:
        return fail(prog, describe_settings_error(exc), EXIT_USAGE)
    except ConfigError as exc:
        return fail(prog, str(exc), EXIT_USAGE)
    obs = settings.observability
    configure_logging(obs.log_format, obs.log_level)
    try:
        check_local(settings, _labels(args))
        from .runner import Bridge

        bridge = Bridge(settings, install_signal_handlers=not args.dry_run)
        bridge.validate()
    except ConfigError as exc:
        return fail(prog, str(exc), EXIT_USAGE)
    try:
        if args.dry_run:
            return _plan(bridge, as_json=args.json)
        return _bridge(bridge, as_json=args.json)
    except AvroBridgeError as exc:
        if obs.log_format == "json":
            log.error("%s", exc)  # the one report, as a JSON line
            return EXIT_FAILED
        return fail(prog, str(exc))


def _plan(bridge: Any, *, as_json: bool) -> int:
    from .plan import build_plan
    from .startup import wait_until_reachable

    wait_until_reachable(
        bridge.settings, bridge.schemas.client, sink_registry=bridge.sink_schemas.client
    )
    plan: Any
    if bridge.settings.source.files:
        from .files_plan import build_backfill_plan

        plan = build_backfill_plan(bridge.settings, bridge.schemas)
    else:
        plan = build_plan(bridge.settings, bridge.schemas, bridge.sink_schemas)
    if as_json:
        print(json.dumps(plan.to_json(), indent=2))
    else:
        print("\n".join(plan.lines()))
    return EXIT_OK if plan.ok else EXIT_FAILED


def _bridge(bridge: Any, *, as_json: bool) -> int:
    from .progress import progress_reporter

    settings: BridgeSettings = bridge.settings
    obs = settings.observability
    if obs.metrics_port is not None:
        bridge.metrics.serve(obs.metrics_port, obs.metrics_host)
    with progress_reporter(settings) as report:
        bridge.on_progress = report
        summary = bridge.run()
    if as_json:
        print(json.dumps({**dataclasses.asdict(summary), "rate": round(summary.rate, 1)}))
    elif settings.bounded:
        print("\n".join(summary.lines()))
    return EXIT_OK
