"""Where a backfill records how far it got in each file: a compacted topic of the sink cluster.

A file is a "partition" named `(path, 0)` whose offset is the byte offset of its next block
to read (the file's size once it is done). Each commit writes one record per file that moved,
keyed by the group id and the path, with the block index and the records done beside the
offset; the last record of a key is the file's progress. At-least-once writes the records
after the sink acknowledged the blocks they cover (the durability strategy flushes first);
exactly-once writes them in the interval's transaction, so the progress and the records it
covers commit together. A restart reads the topic (read_committed) to its end once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Producer

from . import progress_topic
from .offsets import OffsetStore, Partition

log = logging.getLogger("avrobridge.bridge")


@dataclass(frozen=True)
class FilePosition:
    """Where a file's next block starts: byte offset, block index, records before it."""

    offset: int
    block: int
    records: int


class FileProgress(OffsetStore):
    def __init__(
        self,
        producer: Producer,
        client_conf: Mapping[str, Any],
        topic: str,
        group_id: str,
        describe: Callable[[Partition, int], FilePosition],
    ) -> None:
        self.producer = producer
        self.topic = topic
        self.group_id = group_id
        #: The position a (file, next offset) stands for (the source knows block and count).
        self.describe = describe
        self._conf = {
            k: v
            for k, v in client_conf.items()
            if k not in ("on_delivery", "group.id", "transactional.id")
            and not k.startswith(("enable.", "queue.", "message.", "linger", "compression"))
        }
        #: What the topic held at start: path -> its last recorded position.
        self.found: dict[str, FilePosition] = {}

    def _key(self, path: str) -> bytes:
        return json.dumps([self.group_id, path], separators=(",", ":")).encode()

    # -- start ----------------------------------------------------------------------------

    def ensure_topic(self, timeout_s: float) -> None:
        """Creates the compacted progress topic when it does not exist."""
        progress_topic.ensure_topic(self._conf, self.topic, "the progress topic", timeout_s)

    def load(self, timeout_s: float) -> None:
        """Reads every committed progress record of this group (the topic to its end)."""
        progress_topic.read_to_end(
            self._conf,
            self.topic,
            f"{self.group_id}-progress-reader",
            "the progress topic",
            timeout_s,
            self._fold,
        )

    def _fold(self, key: bytes | None, value: bytes | None) -> None:
        prefix = json.dumps([self.group_id], separators=(",", ":"))[:-1] + ","
        if key is None or not key.decode(errors="replace").startswith(prefix):
            return
        path = json.loads(key)[1]
        if value is None:
            self.found.pop(path, None)
            return
        v = json.loads(value)
        self.found[path] = FilePosition(int(v["offset"]), int(v["block"]), int(v["records"]))

    # -- the store ------------------------------------------------------------------------

    def _produce(self, offsets: Mapping[Partition, int]) -> None:
        for (path, _), offset in offsets.items():
            pos = self.describe((path, 0), offset)
            value = {"file": path, "offset": pos.offset, "block": pos.block}
            value["records"] = pos.records
            self.producer.produce(self.topic, json.dumps(value).encode(), self._key(path), 0)

    def commit(self, offsets: Mapping[Partition, int], *, final: bool) -> bool:
        self._produce(offsets)
        if final:
            return self.producer.flush(30) == 0
        self.producer.poll(0)
        return True

    def send_in_transaction(
        self, producer: Producer, offsets: Mapping[Partition, int], timeout_s: float
    ) -> None:
        self._produce(offsets)

    def committed(self, partitions: Iterable[Partition], timeout_s: float) -> dict[Partition, int]:
        return {
            (path, p): self.found[path].offset if path in self.found else -1
            for path, p in partitions
        }
