#!/usr/bin/env bash
# Installs everything and runs every check and test. This is the README's test command and
# exactly what CI runs (.ci/run). On a fresh machine it needs Python >= 3.10, a Rust toolchain
# (rustup), Java 17 and Maven; it fetches the rest (Python deps, crates, Kafka jars).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

PYTHON=${PYTHON:-python3}
VENV=${AVROBRIDGE_VENV:-.venv}

step "Python environment ($VENV)"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
# shellcheck disable=SC1091
source "$VENV/bin/activate"
python -m pip install --quiet --upgrade pip

step "Build the Rust extension and install the package with its dev dependencies"
python -m pip install --quiet -e ".[dev]"
python -c "import avrobridge as ab; assert ab.BACKEND == 'native', ab.BACKEND; print('avrobridge', ab.__version__, 'backend', ab.BACKEND)"

step "Rust: fmt, clippy, tests"
cargo fmt --all --check
cargo clippy --all-targets --features python -- -D warnings
cargo test --quiet

step "Python: ruff, mypy, stub check"
ruff check python tests benches
ruff format --check python tests benches
mypy
python -m mypy.stubtest avrobridge._native --concise

step "Kafka: fetch the broker jars from Maven Central"
python tests/kafka_harness/broker.py fetch

step "Java: build the Apache Avro Java program of the container-file interop tests (cached)"
python tests/ocf_interop/harness.py build

step "Java: fetch Apache Avro from Maven Central (the oracle of the resolution tests)"
python tests/java_oracle/oracle.py fetch

step "pytest: every test on both backends, against a real Kafka broker"
python -m pytest -q --durations=25 tests

step "Benchmarks (smoke run, timings off)"
python -m pytest -q benches --benchmark-disable

step "All checks passed"
