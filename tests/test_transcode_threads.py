"""Transcoders shared between threads: batches converted concurrently give exactly what one
thread gives, failures stay with their own item, and threads that exit (taking their
per-thread buffers with them) leave every output they returned intact."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any


def _employee(i: int) -> dict[str, Any]:
    return {
        "firstName": f"First{i}",
        "nickName": None if i % 2 else f"n{i}",
        "lastName": f"Last{i}",
        "age": i % 90,
        "emails": [f"e{i}@example.com"] * (i % 3),
        "phoneNumber": None,
        "status": "SALARY",
    }


def _pair(backend: ModuleType, seed_dir: Path) -> tuple[Any, Any, Any]:
    v2 = json.loads((seed_dir / "employee_v2.avsc").read_text())
    v1 = json.loads((seed_dir / "employee_v1.avsc").read_text())
    writer = backend.Schema(v2)
    return writer, backend.Transcoder(v2, v1), backend.Schema(v1)


def test_concurrent_batches_match_one_thread(backend: ModuleType, seed_dir: Path) -> None:
    writer, t, _ = _pair(backend, seed_dir)
    batches = [
        [b"\x00\x00\x00\x00\x07" + backend.encode(writer, _employee(i)) for i in range(k, k + 3000)]
        for k in range(0, 24_000, 3000)
    ]
    # Every fifth batch carries a truncated record: its error must stay with that item.
    for batch in batches[::5]:
        batch[17] = batch[17][:-3]
    expected = [t.transcode_framed_many(b, 9) for b in batches]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            got = list(pool.map(lambda b: t.transcode_framed_many(b, 9), batches))
            assert [outputs for outputs, _ in got] == [outputs for outputs, _ in expected]
            assert [[i for i, _ in errors] for _, errors in got] == [
                [17] if n % 5 == 0 else [] for n in range(len(batches))
            ]


def test_outputs_outlive_the_threads_that_made_them(backend: ModuleType, seed_dir: Path) -> None:
    writer, t, reader = _pair(backend, seed_dir)
    items = [backend.encode(writer, _employee(i)) for i in range(2000)]
    results: list[list[bytes]] = []

    def work() -> None:
        for _ in range(3):
            outputs, errors = t.transcode_many(items)
            assert not errors
        results.append(outputs)

    for _ in range(5):  # fresh threads every round; each exits holding per-thread buffers
        threads = [threading.Thread(target=work) for _ in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    assert len(results) == 15
    expected = [backend.decode(writer, b, reader=reader) for b in items]
    for outputs in results:
        assert [backend.decode(reader, b) for b in outputs] == expected
