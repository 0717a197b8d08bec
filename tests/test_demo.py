"""The README's first command: `avrobridge demo` bridges on the embedded defaults."""

from __future__ import annotations

import re
import subprocess
import sys


def test_demo_bridges_every_record_on_embedded_kafka_and_registry() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "avrobridge.cli", "demo", "--records", "5000"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "bridged 5,000 records to employees-v1" in out
    assert "2 to the dead-letter topic" in out
    assert "'age': 42" in out  # before
    assert "every record arrived" in out
    # librdkafka's lines go through Python logging: none raw ("%3|...|FAIL|...").
    assert not re.search(r"^%\d\|", proc.stderr, re.MULTILINE), proc.stderr
