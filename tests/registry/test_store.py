"""The log stores: append, read, replay at start, wait for an applied offset."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from avrobridge.errors import ConfigError
from avrobridge.registry.store import MemoryStore, SqliteStore, open_store


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> MemoryStore | SqliteStore:
    if request.param == "memory":
        return MemoryStore()
    return SqliteStore(tmp_path / "log.db")


def test_append_applies_in_order_and_reads_back(store: MemoryStore | SqliteStore) -> None:
    seen: list[tuple[int, bytes, bytes | None]] = []
    store.start(lambda o, k, v: seen.append((o, k, v)))
    assert store.append(b"k1", b"v1") == 0
    assert store.append_all([(b"k2", None), (b"k3", b"v3")]) == 2
    store.wait_applied(2, timeout=1)
    assert seen == [(0, b"k1", b"v1"), (1, b"k2", None), (2, b"k3", b"v3")]
    assert list(store.read()) == seen
    assert list(store.read(from_offset=2)) == [(2, b"k3", b"v3")]
    with pytest.raises(TimeoutError):
        store.wait_applied(3, timeout=0.05)
    store.close()


def test_sqlite_replays_at_start(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / "log.db")
    first.start(lambda *_: None)
    first.append_all([(b"a", b"1"), (b"b", None)])
    first.close()
    second = SqliteStore(tmp_path / "log.db")
    replayed: list[tuple[int, bytes, bytes | None]] = []
    second.start(lambda o, k, v: replayed.append((o, k, v)))
    assert replayed == [(0, b"a", b"1"), (1, b"b", None)]
    assert second.append(b"c", b"3") == 2
    second.close()


def test_sqlite_appends_from_many_threads_stay_dense(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "log.db")
    store.start(lambda *_: None)
    offsets: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        offset = store.append(f"k{n}".encode(), b"v")
        with lock:
            offsets.append(offset)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(offsets) == list(range(40))
    store.close()


def test_open_store_urls(tmp_path: Path) -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    db = open_store(f"sqlite://{tmp_path}/x.db")
    assert isinstance(db, SqliteStore) and db.path == tmp_path / "x.db"
    db.close()
    for bad in ("kafka://broker", "sqlite://", "/tmp/x.db"):
        with pytest.raises(ConfigError):
            open_store(bad)
