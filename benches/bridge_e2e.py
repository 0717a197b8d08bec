"""The bridge end to end against the loops a user would otherwise write, each as its own
process over the same source topic on the same broker:

- ``bare``: confluent-kafka consume 10,000 -> produce unchanged -> flush -> commit (converts
  nothing: what Kafka and the Python client cost);
- ``java``: a hand-written JVM loop, kafka-clients + Apache Avro's GenericDatumReader(writer,
  reader) and GenericDatumWriter, ``max.poll.records`` 5,000, commitAsync
  (benches/loops/java, built by Maven into ~/.cache/avrobridge);
- ``avrobridge``: ``avrobridge run --until-end``, the real command;
- ``fastavro``: the bare loop converting each record with fastavro.

Each process's records/s and CPU (user + sys, whole process and, as each reports it, the loop
alone) are measured; every sink is read back: the count, and every value decodes with the
target schema under the id it carries. Also: end-to-end latency of a running bridge at a
steady rate.

By hand (starts its own broker unless given one)::

    python benches/bridge_e2e.py --records 1000000 [--bootstrap HOST:PORT] [--json out.json]
    python benches/bridge_e2e.py --latency 20000 --seconds 30

benches/test_bench_bridge.py runs the same functions under pytest-benchmark.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import Schema as RegistrySchema
from confluent_kafka.schema_registry import SchemaRegistryClient

import avrobridge as ab
from avrobridge import framing
from avrobridge.data import schema_text

BENCHES = Path(__file__).resolve().parent
ROOT = BENCHES.parent
LOOPS = BENCHES / "loops"
JAVA_PROJECT = LOOPS / "java"
PARTITIONS = 6
ALL_LOOPS = ("bare", "java", "avrobridge", "fastavro")

if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))


def employee(i: int) -> dict[str, Any]:
    return {
        "firstName": f"First{i}",
        "nickName": None if i % 3 else f"nick{i}",
        "lastName": f"Last{i}",
        "age": 30 + i % 40,
        "emails": [f"e{i}@example.com"] if i % 4 else [],
        "phoneNumber": None if i % 5 == 0 else {
            "areaCode": "301", "countryCode": "1", "prefix": "555", "number": f"{i % 10000:04d}"
        },
        "status": ["RETIRED", "SALARY", "HOURLY", "PART_TIME"][i % 4],
    }  # fmt: skip


def schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """(writer v2, target v1) of the tutorial's Employee."""
    v1 = json.loads(schema_text("employee_v1"))
    v2 = json.loads(schema_text("employee_v2"))
    return v2, v1


# -- set-up ---------------------------------------------------------------------------------


def new_topic(bootstrap: str, prefix: str, partitions: int = PARTITIONS) -> str:
    """A fresh, uniquely named topic (the harness adds a random suffix)."""
    from kafka_harness.broker import create_topic

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})
    return create_topic(admin, prefix, partitions, None)


def fill(bootstrap: str, registry_url: str, topic: str, n: int) -> int:
    """Registers the writer schema under the topic's subject and produces `n` framed Employee
    v2 records round-robin over the partitions, keyed by their number. Returns the id."""
    writer, _ = schemas()
    with SchemaRegistryClient({"url": registry_url}) as client:
        writer_id = client.register_schema(
            f"{topic}-value", RegistrySchema(json.dumps(writer), "AVRO")
        )
    schema = ab.Schema(writer)
    prefix = framing.prefix(writer_id)
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 20, "compression.type": "lz4", "log_level": 3}
    )
    chunk = 10_000
    for start in range(0, n, chunk):
        bodies = ab.encode_many(schema, [employee(i) for i in range(start, min(n, start + chunk))])
        for j, body in enumerate(bodies):
            i = start + j
            while True:
                try:
                    producer.produce(topic, prefix + body, str(i).encode(), i % PARTITIONS)
                    break
                except BufferError:
                    producer.poll(0.1)
    if producer.flush(120) != 0:
        raise RuntimeError(f"could not produce {n:,} records to {topic}")
    return writer_id


# -- the Java loop --------------------------------------------------------------------------


def java_classpath() -> str:
    """Builds benches/loops/java with Maven into the cache (once per source version)."""
    from kafka_harness.broker import cache_dir

    digest = hashlib.sha256()
    for path in sorted(JAVA_PROJECT.rglob("*")):
        if path.is_file() and "target" not in path.parts:
            digest.update(path.relative_to(JAVA_PROJECT).as_posix().encode())
            digest.update(path.read_bytes())
    out = cache_dir("bench").parent / f"bench-java-loop-{digest.hexdigest()[:16]}"
    classes, libs = out / "build" / "classes", out / "libs"
    if not (out / "built.ok").is_file():
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RuntimeError("the Java loop needs Maven ('mvn') on PATH")
        shutil.rmtree(out, ignore_errors=True)
        proc = subprocess.run(
            [
                mvn,
                "-B",
                "-q",
                "-f",
                str(JAVA_PROJECT / "pom.xml"),
                f"-Dbuild.dir={out / 'build'}",
                "compile",
                "dependency:copy-dependencies",
                f"-DoutputDirectory={libs}",
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"building the Java loop failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
            )
        (out / "built.ok").write_text("ok\n")
    return f"{classes}{os.pathsep}{libs / '*'}"


# -- running the loops ----------------------------------------------------------------------


@dataclass
class LoopResult:
    loop: str
    records: int
    #: The whole process, start to exit.
    process_seconds: float
    process_cpu_seconds: float
    #: The loop alone, as the process reports it (start-up excluded).
    loop_seconds: float | None = None
    loop_cpu_seconds: float | None = None
    peak_rss_mb: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def records_per_s(self) -> float:
        return self.records / (self.loop_seconds or self.process_seconds)

    @property
    def cpu_us_per_record(self) -> float:
        return self.process_cpu_seconds / self.records * 1e6

    @property
    def loop_cpu_us_per_record(self) -> float | None:
        if self.loop_cpu_seconds is None:
            return None
        return self.loop_cpu_seconds / self.records * 1e6


def loop_command(
    loop: str, bootstrap: str, registry_url: str, source: str, sink: str, reader: Path
) -> list[str]:
    group = f"{sink}-group"
    if loop == "bare":
        return [
            sys.executable,
            str(LOOPS / "bare.py"),
            bootstrap,
            registry_url,
            source,
            sink,
            group,
            str(reader),
        ]
    if loop == "fastavro":
        return [
            sys.executable,
            str(LOOPS / "fastavro_loop.py"),
            bootstrap,
            registry_url,
            source,
            sink,
            group,
            str(reader),
        ]
    if loop == "java":
        return [
            "java", "-cp", java_classpath(), "avrobridge.bench.BridgeLoop",
            bootstrap, registry_url, source, sink, group, str(reader),
        ]  # fmt: skip
    if loop == "avrobridge":
        return [
            sys.executable, "-m", "avrobridge.cli", "run", "--from", source, "--to", sink,
            "--reader-schema", str(reader), "--bootstrap-servers", bootstrap,
            "--registry-url", registry_url, "--group-id", group, "--until-end", "--json",
        ]  # fmt: skip
    raise ValueError(f"unknown loop {loop!r}")


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_loop(
    loop: str, bootstrap: str, registry_url: str, source: str, sink: str, reader: Path, n: int
) -> LoopResult:
    """Runs one loop as its own process over `source` into the (existing, empty) `sink`."""
    cmd = loop_command(loop, bootstrap, registry_url, source, sink, reader)
    return run_command(loop, cmd, n)


def run_command(loop: str, cmd: list[str], n: int) -> LoopResult:
    """Runs `cmd` as its own process; its last line of output reports what it did."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak: float | None = None
    while proc.poll() is None:
        peak = _rss_mb(proc.pid) or peak
        time.sleep(0.2)
    out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if proc.returncode != 0:
        raise RuntimeError(f"{loop} exited with {proc.returncode}:\n{err[-3000:]}")
    report = json.loads(out.strip().splitlines()[-1])
    if "records_in" in report:  # avrobridge's --json summary
        report = {
            "records": report["records_in"],
            "loop_seconds": report["elapsed_s"],
            "loop_cpu_seconds": report["cpu_s"],
        }
    result = LoopResult(
        loop=loop,
        records=n,
        process_seconds=elapsed,
        process_cpu_seconds=cpu,
        loop_seconds=report.get("loop_seconds"),
        loop_cpu_seconds=report.get("loop_cpu_seconds"),
        peak_rss_mb=peak,
    )
    if report.get("records") != n:
        result.note = f"reported {report.get('records')} records"
    return result


# -- checking the sinks ---------------------------------------------------------------------


def read_topic(bootstrap: str, topic: str, partitions: int = PARTITIONS) -> list[Any]:
    """Every record of the topic (messages), up to its end offsets now."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"check-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "log_level": 3,
        }
    )
    try:
        tps = [TopicPartition(topic, p, 0) for p in range(partitions)]
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(partitions)
        }
        consumer.assign(tps)
        out: list[Any] = []
        seen = dict.fromkeys(range(partitions), -1)
        deadline = time.monotonic() + 120
        while any(seen[p] + 1 < end for p, end in ends.items()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"reading {topic} timed out")
            for m in consumer.consume(10_000, 1.0):
                if m.error() is None:
                    out.append(m)
                    seen[m.partition()] = m.offset()
                elif m.error().code() != -191:  # _PARTITION_EOF
                    raise RuntimeError(str(m.error()))
            # Transaction markers occupy offsets but are never delivered.
            positions = consumer.position([TopicPartition(topic, p) for p in range(partitions)])
            for tp in positions:
                if tp.offset >= ends[tp.partition]:
                    seen[tp.partition] = ends[tp.partition] - 1
        return out
    finally:
        consumer.close()


def check_sink(bootstrap: str, registry_url: str, sink: str, n: int, loop: str) -> str:
    """'' when the sink holds `n` records that each decode with the schema of the id they
    carry, as the target schema; else what is wrong."""
    msgs = read_topic(bootstrap, sink)
    if len(msgs) != n:
        return f"{len(msgs):,} of {n:,} records in the sink"
    writer, target = schemas()
    expected = ab.Schema(writer if loop == "bare" else target)
    by_id: dict[int, list[bytes]] = {}
    for m in msgs:
        value = m.value()
        if value is None or value[0] != 0:
            return "a sink record is not Confluent-framed"
        by_id.setdefault(int.from_bytes(value[1:5], "big"), []).append(value[5:])
    with SchemaRegistryClient({"url": registry_url}) as client:
        for schema_id, bodies in by_id.items():
            registered = ab.Schema(client.get_schema(schema_id).schema_str)
            if registered != expected:
                return f"sink id {schema_id} is not the expected schema"
            try:
                ab.decode_many(registered, bodies)
            except ab.DecodeError as exc:
                return f"a sink record does not decode: {exc}"
    return ""


# -- the whole comparison -------------------------------------------------------------------


@contextlib.contextmanager
def services(bootstrap: str | None) -> Iterator[tuple[str, str]]:
    """(bootstrap, registry URL): the given broker or a fresh one, and our registry."""
    from avrobridge.registry import BackgroundServer, ServerSettings
    from kafka_harness.broker import KafkaBroker

    with contextlib.ExitStack() as stack:
        if bootstrap is None:
            broker = KafkaBroker(heap=("1g", "1g"))
            broker.start()
            stack.callback(broker.stop)
            bootstrap = broker.bootstrap
        registry = stack.enter_context(
            BackgroundServer(ServerSettings(port=0, log_level="warning"))
        )
        yield bootstrap, registry.url


def warm_up(bootstrap: str, registry_url: str, reader: Path, n: int) -> None:
    """One unmeasured bare run: the broker's JVM compiles its hot paths during the first
    100,000 records or so, which would count against whichever loop ran first."""
    source, sink = new_topic(bootstrap, "e2e-warm"), new_topic(bootstrap, "e2e-warm-sink")
    fill(bootstrap, registry_url, source, n)
    run_loop("bare", bootstrap, registry_url, source, sink, reader, n)


def compare(
    bootstrap: str,
    registry_url: str,
    n: int,
    loops: tuple[str, ...] = ALL_LOOPS,
    warm: int = 150_000,
) -> list[LoopResult]:
    with tempfile.TemporaryDirectory() as tmp:
        reader = Path(tmp) / "employee_v1.avsc"
        reader.write_text(json.dumps(schemas()[1]))
        if warm:
            warm_up(bootstrap, registry_url, reader, warm)
        source = new_topic(bootstrap, "e2e-source")
        fill(bootstrap, registry_url, source, n)
        results = []
        for loop in loops:
            sink = new_topic(bootstrap, f"e2e-sink-{loop}")
            result = run_loop(loop, bootstrap, registry_url, source, sink, reader, n)
            result.note = "; ".join(
                x for x in (result.note, check_sink(bootstrap, registry_url, sink, n, loop)) if x
            )
            results.append(result)
        return results


def table(results: list[LoopResult]) -> str:
    by = {r.loop: r for r in results}
    lines = [
        "| loop | records/s | vs java | vs bare | CPU µs/record (process) | CPU µs/record (loop) "
        "| vs bare (loop CPU) | peak RSS MB | check |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        java, bare = by.get("java"), by.get("bare")
        vs_java = f"{r.records_per_s / java.records_per_s:.2f}×" if java else "—"
        vs_bare = f"{r.records_per_s / bare.records_per_s:.2f}×" if bare else "—"
        loop_cpu = r.loop_cpu_us_per_record
        cpu_vs = (
            f"{loop_cpu / bare.loop_cpu_us_per_record:.2f}×"
            if bare and loop_cpu and bare.loop_cpu_us_per_record
            else "—"
        )
        lines.append(
            f"| {r.loop} | {r.records_per_s:,.0f} | {vs_java} | {vs_bare} | "
            f"{r.cpu_us_per_record:.2f} | {f'{loop_cpu:.2f}' if loop_cpu else '—'} | {cpu_vs} | "
            f"{f'{r.peak_rss_mb:.0f}' if r.peak_rss_mb else '—'} | {r.note or 'ok'} |"
        )
    return "\n".join(lines)


# -- latency at a steady rate ---------------------------------------------------------------


def latency(bootstrap: str, registry_url: str, rate: int, seconds: float) -> dict[str, float]:
    """p50/p99/max milliseconds from the source producer's send to the sink consumer's
    receive, through a running `avrobridge run`, at `rate` records/s for `seconds`."""
    token = uuid.uuid4().hex[:8]
    source, sink = new_topic(bootstrap, "e2e-lat"), new_topic(bootstrap, "e2e-lat-sink")
    fill(bootstrap, registry_url, source, 0)
    writer, target = schemas()
    schema = ab.Schema(writer)
    with SchemaRegistryClient({"url": registry_url}) as client:
        writer_id = client.get_latest_version(f"{source}-value").schema_id
    prefix = framing.prefix(int(writer_id))
    bodies = ab.encode_many(schema, [employee(i) for i in range(1000)])
    with tempfile.TemporaryDirectory() as tmp:
        reader = Path(tmp) / "employee_v1.avsc"
        reader.write_text(json.dumps(target))
        cmd = loop_command("avrobridge", bootstrap, registry_url, source, sink, reader)
        cmd = [c for c in cmd if c not in ("--until-end", "--json")]
        bridge = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            samples: list[float] = []
            stop = threading.Event()
            consumer = Consumer(
                {
                    "bootstrap.servers": bootstrap,
                    "group.id": f"lat-{token}",
                    "auto.offset.reset": "earliest",
                    "fetch.wait.max.ms": 5,
                    "log_level": 3,
                }
            )
            consumer.subscribe([sink])

            def receive() -> None:
                # What is there now, else wait for one record: a blocking consume of many
                # would wait to fill its batch and add that wait to every record's latency.
                while not stop.is_set():
                    msgs = consumer.consume(10_000, 0) or consumer.consume(1, 0.05)
                    now = time.time()
                    for m in msgs:
                        if m.error() is None and m.key():
                            samples.append(now - int(m.key()) / 1e9)

            reader_thread = threading.Thread(target=receive, daemon=True)
            reader_thread.start()
            producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 1, "log_level": 3})
            time.sleep(5)  # the bridge and the sink consumer join their groups
            started = time.monotonic()
            sent = 0
            while (now := time.monotonic()) - started < seconds:
                due = int((now - started) * rate)
                while sent < due:
                    key = str(time.time_ns()).encode()
                    try:
                        producer.produce(
                            source, prefix + bodies[sent % 1000], key, sent % PARTITIONS
                        )
                    except BufferError:  # the broker is behind: the rate is not held
                        producer.poll(0.01)
                        continue
                    sent += 1
                producer.poll(0)
                time.sleep(0.001)
            producer.flush(30)
            time.sleep(3)
            stop.set()
            reader_thread.join()
            consumer.close()
        finally:
            bridge.terminate()
            bridge.wait(60)
    # The first two seconds include the groups settling; steady state is the rest.
    steady = sorted(samples[int(rate * 2) :]) or sorted(samples)
    if not steady:
        raise RuntimeError("no record came through the bridge")

    def pct(q: float) -> float:
        return steady[min(len(steady) - 1, int(len(steady) * q))] * 1000

    return {
        "rate": rate,
        "sent": sent,
        "received": len(samples),
        "p50_ms": round(pct(0.50), 2),
        "p99_ms": round(pct(0.99), 2),
        "max_ms": round(steady[-1] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bootstrap", help="an existing broker (default: start one)")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--loops", default=",".join(ALL_LOOPS))
    parser.add_argument("--warm", type=int, default=150_000, help="records of the warm-up run")
    parser.add_argument("--latency", type=int, metavar="RATE", help="measure latency at RATE/s")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()
    with services(args.bootstrap) as (bootstrap, registry_url):
        if args.latency:
            result: Any = latency(bootstrap, registry_url, args.latency, args.seconds)
            print(json.dumps(result))
        else:
            loops = tuple(x for x in args.loops.split(",") if x)
            runs = compare(bootstrap, registry_url, args.records, loops, args.warm)
            print(table(runs))
            result = [asdict(r) | {"records_per_s": r.records_per_s} for r in runs]
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
