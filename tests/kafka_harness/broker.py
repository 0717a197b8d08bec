"""A real, single-node Apache Kafka broker for avrobridge's integration tests.

The broker's jars come from Maven Central through Maven (see ``pom.xml`` beside this file) and
are cached in ``~/.cache/avrobridge/kafka-<version>/libs`` (the ``~/.cache/avrobridge`` part can
be moved with ``AVROBRIDGE_KAFKA_CACHE``).  Each :class:`KafkaBroker` runs in a fresh temporary
directory, in KRaft combined mode (one process is both broker and controller), on free ports of
127.0.0.1.

Command line, for developers::

    python tests/kafka_harness/broker.py fetch   # only download the jars
    python tests/kafka_harness/broker.py run     # start a broker, print its address, Ctrl-C stops
"""

from __future__ import annotations

import argparse
import atexit
import base64
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic  # confluent_kafka.admin re-exports it untyped

DEFAULT_KAFKA_VERSION = "4.4.0"
HARNESS_DIR = Path(__file__).resolve().parent
POM_PATH = HARNESS_DIR / "pom.xml"
LOG4J_CONFIG_PATH = HARNESS_DIR / "log4j2.yaml"

# Environment variables understood by the harness.
ENV_CACHE = "AVROBRIDGE_KAFKA_CACHE"  # replaces ~/.cache/avrobridge
ENV_VERSION = "AVROBRIDGE_KAFKA_VERSION"  # Kafka version to fetch and run

_MARKER_NAME = "fetched.ok"
_JAR_KAFKA_MAIN_CLASS = "kafka.Kafka"
_STORAGE_TOOL_CLASS = "kafka.tools.StorageTool"


def kafka_version() -> str:
    return os.environ.get(ENV_VERSION) or DEFAULT_KAFKA_VERSION


def cache_dir(version: str) -> Path:
    """Directory holding ``libs/`` (the jars) and the fetch marker for one Kafka version."""
    root = os.environ.get(ENV_CACHE)
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "avrobridge"
    return base / f"kafka-{version}"


def tail(path: Path, lines: int = 60) -> str:
    """Last ``lines`` lines of a text file, or a note saying why there are none."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            # Logs can be large; the tail is always within the last 256 KiB in practice.
            f.seek(max(0, f.tell() - 256 * 1024))
            text = f.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


def _text_tail(text: str, lines: int = 60) -> str:
    # Maven 3.8 prints colour resets (ESC[0m) even in batch mode.
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Exclusive lock, so that parallel test processes do not fetch into the same cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _fetch_fingerprint(version: str) -> str:
    # The marker records what was fetched: editing the pom (say, adding a dependency) or changing
    # the version makes the cache stale, and the next run fetches again.
    digest = hashlib.sha256(POM_PATH.read_bytes()).hexdigest()
    return f"kafka={version} pom-sha256={digest}\n"


def fetch_jars(version: str | None = None) -> Path:
    """Make sure the jars for ``version`` are in the cache; return the ``libs`` directory.

    Runs Maven only when the cache lacks a successful fetch of the same pom and version.
    Raises RuntimeError, with the tail of Maven's output, when the download fails.
    """
    version = version or kafka_version()
    root = cache_dir(version)
    libs = root / "libs"
    marker = root / _MARKER_NAME
    fingerprint = _fetch_fingerprint(version)

    def cached() -> bool:
        return (
            marker.is_file()
            and marker.read_text() == fingerprint
            and (libs / f"kafka_2.13-{version}.jar").is_file()
        )

    if cached():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError(
            "cannot fetch Kafka: 'mvn' (Apache Maven) is not on PATH; install Maven "
            "(e.g. apt-get install maven) or point AVROBRIDGE_TEST_BOOTSTRAP at a running broker"
        )
    with _file_lock(root / ".lock"):
        if cached():  # another process fetched while we waited for the lock
            return libs
        # Copy into a scratch directory and move it into place only once Maven succeeded, so an
        # interrupted fetch never leaves a half-filled libs/ behind.
        staging = root / f"libs.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [
            mvn,
            "-B",
            "-q",  # only errors: they end up in the RuntimeError below
            "-f",
            str(POM_PATH),
            f"-Dkafka.version={version}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
        ]
        try:
            proc = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=1800,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            out = exc.output if isinstance(exc.output, str) else ""
            raise RuntimeError(
                f"fetching Kafka {version} with Maven timed out after {exc.timeout:.0f} s:\n"
                f"{_text_tail(out)}"
            ) from exc
        if proc.returncode != 0 or not (staging / f"kafka_2.13-{version}.jar").is_file():
            shutil.rmtree(staging, ignore_errors=True)
            raise RuntimeError(
                f"fetching Kafka {version} with Maven failed (exit code {proc.returncode}).\n"
                f"command: {' '.join(cmd)}\n"
                f"--- last lines of Maven's output ---\n{_text_tail(proc.stdout)}"
            )
        marker.unlink(missing_ok=True)
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
        marker.write_text(fingerprint)
    return libs


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("cannot start Kafka: no 'java' on PATH and JAVA_HOME is not set")
    return java


def _free_ports(count: int) -> list[int]:
    """Ports that were free a moment ago (all sockets stay open until the end, so distinct)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _random_cluster_id() -> str:
    # Kafka's Uuid.toString(): URL-safe base64 of 16 bytes without padding.  Kafka never hands
    # out ids starting with '-', since they would read as command-line flags.
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _quiet_admin(bootstrap: str) -> AdminClient:
    return AdminClient(
        {
            "bootstrap.servers": bootstrap,
            # Probe often while the broker is coming up (librdkafka backs off up to 10 s).
            "reconnect.backoff.ms": 100,
            "reconnect.backoff.max.ms": 500,
            # Silence librdkafka's "Connection refused" lines while we wait.
            "log_level": 0,
        }
    )


def wait_for_broker(bootstrap: str, timeout: float) -> None:
    """Wait until a broker at ``bootstrap`` answers a metadata request; raise RuntimeError."""
    admin = _quiet_admin(bootstrap)
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RuntimeError(
                f"no Kafka broker answered at {bootstrap} within {timeout:.0f} s ({last_error})"
            )
        try:
            if admin.list_topics(timeout=min(2.0, remaining)).brokers:
                return
        except KafkaException as exc:
            last_error = str(exc)
        time.sleep(0.1)


def create_topic(
    admin: AdminClient,
    prefix: str,
    partitions: int = 1,
    config: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> str:
    """Create a uniquely named topic and wait until every partition has a leader."""
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})],
        operation_timeout=timeout,
        request_timeout=timeout,
    )
    futures[name].result(timeout=timeout)
    # CreateTopics returns once the controller has the topic; the broker may not serve it yet.
    deadline = time.monotonic() + timeout
    while True:
        topic = admin.list_topics(topic=name, timeout=timeout).topics.get(name)
        if (
            topic is not None
            and topic.error is None
            and len(topic.partitions) == partitions
            and all(p.leader >= 0 for p in topic.partitions.values())
        ):
            return name
        if time.monotonic() > deadline:
            raise RuntimeError(f"topic {name} did not become ready within {timeout:.0f} s")
        time.sleep(0.05)


def _server_properties(workdir: Path, broker_port: int, controller_port: int) -> str:
    props = {
        # KRaft combined mode: one process is the whole cluster.
        "process.roles": "broker,controller",
        "node.id": "1",
        # A dynamic single-voter quorum, formatted with `StorageTool format --standalone`.
        "controller.quorum.bootstrap.servers": f"127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{broker_port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": (
            f"PLAINTEXT://127.0.0.1:{broker_port},CONTROLLER://127.0.0.1:{controller_port}"
        ),
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(workdir / "data"),
        # One node: every internal topic must be satisfied by a single replica, otherwise
        # consumer groups and transactions (exactly-once) wait forever for missing replicas.
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Fewer partitions for the internal topics: created on first use, faster with few.
        "offsets.topic.num.partitions": "5",
        "transaction.state.log.num.partitions": "5",
        # Tests join groups constantly; do not wait 3 s for more members to show up.
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
        "num.partitions": "1",
        "delete.topic.enable": "true",
    }
    return "".join(f"{key}={value}\n" for key, value in props.items())


# Brokers started by this process and not yet stopped; stopped at exit or on SIGTERM.
_live: set[KafkaBroker] = set()


def _stop_all_at_exit() -> None:
    for broker in list(_live):
        broker.stop()


atexit.register(_stop_all_at_exit)


def install_sigterm_cleanup() -> None:
    """On SIGTERM, stop our brokers before dying (Python's default would skip atexit).

    Only installed when nobody else handles SIGTERM, and only from the main thread.
    """
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        for broker in list(_live):
            broker.terminate()  # all of them shut down in parallel...
        for broker in list(_live):
            broker.stop(timeout=10)  # ...then wait, and clean up their directories
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    with contextlib.suppress(ValueError):  # ValueError: not the main thread
        signal.signal(signal.SIGTERM, handler)


class KafkaBroker:
    """One single-node Kafka broker in a fresh temporary directory.

    Use ``start()``/``stop()`` or a ``with`` block.  ``log_path`` (the broker's log4j log) and
    ``stdout_path`` (the JVM's own output) stay readable after ``stop(keep_logs=True)``.
    """

    def __init__(
        self,
        version: str | None = None,
        *,
        startup_timeout: float = 120.0,
        heap: tuple[str, str] = ("256m", "1g"),
    ) -> None:
        self.version = version or kafka_version()
        self.startup_timeout = startup_timeout
        self.heap = heap
        self.workdir: Path | None = None
        self.broker_port: int | None = None
        self.controller_port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stdout: IO[bytes] | None = None

    # --- paths and state -------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        if self.broker_port is None:
            raise RuntimeError("broker not started")
        return f"127.0.0.1:{self.broker_port}"

    @property
    def log_path(self) -> Path:
        return self._workdir / "server.log"

    @property
    def stdout_path(self) -> Path:
        return self._workdir / "broker.out"

    @property
    def _workdir(self) -> Path:
        if self.workdir is None:
            raise RuntimeError("broker not started")
        return self.workdir

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        """Tails of the broker log and the JVM's output, labelled, for error messages."""
        parts = [f"--- last lines of {self.log_path} ---", tail(self.log_path, lines)]
        out = tail(self.stdout_path, lines)
        if out.strip():
            parts += [f"--- last lines of {self.stdout_path} ---", out]
        return "\n".join(parts)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> str:
        """Fetch the jars if needed, format storage, start the broker, wait until it answers.

        Returns the bootstrap address.  Raises RuntimeError with the log's tail on failure.
        """
        if self._proc is not None:
            raise RuntimeError("broker already started")
        libs = fetch_jars(self.version)
        java = _java()
        deadline = time.monotonic() + self.startup_timeout
        # The free ports we picked can be taken by someone else before Java binds them; that
        # shows up as a BindException, and a retry on new ports fixes it.
        for attempt in range(3):
            self._launch(java, libs)
            try:
                self._wait_until_ready(deadline)
                return self.bootstrap
            except RuntimeError:
                bind_failure = "BindException" in tail(self.log_path, 400) + tail(
                    self.stdout_path, 400
                )
                if not (bind_failure and attempt < 2 and time.monotonic() < deadline):
                    self.stop(keep_logs=True)
                    raise
                self.stop()
        raise AssertionError("unreachable")

    def _launch(self, java: str, libs: Path) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="avrobridge-kafka-"))
        self.broker_port, self.controller_port = _free_ports(2)
        config = self.workdir / "server.properties"
        config.write_text(_server_properties(self.workdir, self.broker_port, self.controller_port))
        classpath = str(libs / "*")  # the JVM expands this wildcard itself

        # Kafka 4 refuses to start on unformatted storage.  --standalone makes this node the
        # only voter of a dynamic quorum (matching controller.quorum.bootstrap.servers above);
        # 4.4's `format` also requires an explicit --cluster-id.  Without a log4j2 config the
        # tool logs only errors, to its output, which format.out keeps.
        fmt = subprocess.run(
            [
                java,
                "-cp",
                classpath,
                _STORAGE_TOOL_CLASS,
                "format",
                "--standalone",
                "--cluster-id",
                _random_cluster_id(),
                "--config",
                str(config),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
            check=False,
        )
        (self.workdir / "format.out").write_text(fmt.stdout)
        if fmt.returncode != 0:
            raise RuntimeError(
                f"formatting Kafka storage failed (exit code {fmt.returncode}):\n"
                f"{_text_tail(fmt.stdout)}\n(broker directory kept: {self.workdir})"
            )

        cmd = [
            java,
            f"-Xms{self.heap[0]}",
            f"-Xmx{self.heap[1]}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG_PATH}",
            f"-Dkafka.logs.dir={self.workdir}",  # log4j2.yaml writes server.log there
            "-cp",
            classpath,
            _JAR_KAFKA_MAIN_CLASS,
            str(config),
        ]
        # setpriv (util-linux) asks the kernel to SIGTERM the JVM when this process dies, even by
        # SIGKILL, where neither atexit nor a signal handler could run.
        setpriv = shutil.which("setpriv")
        if setpriv is not None and sys.platform.startswith("linux"):
            cmd = [setpriv, "--pdeathsig", "TERM", *cmd]
        self._stdout = self.stdout_path.open("wb")
        self._proc = subprocess.Popen(
            cmd,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=self._stdout,
            stderr=subprocess.STDOUT,
            # Out of the terminal's process group: Ctrl-C reaches only Python, whose cleanup
            # (fixture teardown, atexit) then stops the broker after the tests are torn down,
            # instead of the broker vanishing under them.
            start_new_session=True,
        )
        _live.add(self)

    def _wait_until_ready(self, deadline: float) -> None:
        assert self._proc is not None
        admin = _quiet_admin(self.bootstrap)
        while True:
            code = self._proc.poll()
            if code is not None:
                raise RuntimeError(
                    f"the Kafka broker exited with code {code} while starting "
                    f"(directory {self.workdir}).\n{self.log_tail()}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(
                    f"the Kafka broker did not answer at {self.bootstrap} within "
                    f"{self.startup_timeout:.0f} s (directory {self.workdir}).\n{self.log_tail()}"
                )
            try:
                if admin.list_topics(timeout=min(1.0, remaining)).brokers:
                    return
            except KafkaException:
                pass  # not up yet
            time.sleep(0.1)

    def wait(self) -> int:
        """Block until the broker process exits by itself; return its exit code."""
        if self._proc is None:
            raise RuntimeError("broker not started")
        return self._proc.wait()

    def terminate(self) -> None:
        """Send SIGTERM without waiting (safe to call from a signal handler)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()

    def stop(self, timeout: float = 30.0, *, keep_logs: bool = False) -> None:
        """Stop the broker: SIGTERM, then SIGKILL after ``timeout`` seconds.

        The data directory is always removed; the logs (and the rest of the broker's temp
        directory) are removed too unless ``keep_logs``.  Safe to call more than once.
        """
        _live.discard(self)
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._stdout is not None:
            self._stdout.close()
            self._stdout = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir / "data", ignore_errors=True)
            if not keep_logs:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> KafkaBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop(keep_logs=exc_type is not None)


# Shared with tests/java_oracle, another Java program whose jars Maven fetches.
file_lock = _file_lock
java_executable = _java
text_tail = _text_tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("command", choices=["fetch", "run"])
    parser.add_argument("--version", default=None, help=f"Kafka version ({kafka_version()})")
    args = parser.parse_args(argv)

    started = time.monotonic()
    if args.command == "fetch":
        libs = fetch_jars(args.version)
        print(f"Kafka jars in {libs} ({time.monotonic() - started:.1f} s)")
        return 0

    install_sigterm_cleanup()
    broker = KafkaBroker(args.version)
    broker.start()
    print(f"Kafka {broker.version} is up ({time.monotonic() - started:.1f} s).")
    print(f"bootstrap: {broker.bootstrap}")
    print(f"log:       {broker.log_path}")
    print("export AVROBRIDGE_TEST_BOOTSTRAP=" + broker.bootstrap)
    print("Ctrl-C stops it.", flush=True)
    try:
        code = broker.wait()
        print(f"the broker exited by itself with code {code}:\n{broker.log_tail()}")
        broker.stop(keep_logs=True)
        return 1
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        broker.stop()
        return 0


if __name__ == "__main__":
    sys.exit(main())
