"""What the hand-written comparison loops share: their command line, reading every partition
of the source up to the end offsets seen at start, and the one JSON line each prints."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

BATCH = 10_000


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("bootstrap")
    parser.add_argument("registry")
    parser.add_argument("source")
    parser.add_argument("sink")
    parser.add_argument("group")
    parser.add_argument("reader_schema")
    return parser.parse_args()


def run(args: argparse.Namespace, convert: Callable[[bytes], bytes]) -> None:
    """consume BATCH -> produce each record converted (same partition, key, timestamp,
    headers) -> flush -> commit, until the end offsets seen at start."""
    common = {"bootstrap.servers": args.bootstrap, "log_level": 3}
    consumer = Consumer(
        {
            **common,
            "group.id": args.group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    producer = Producer({**common, "linger.ms": 5, "compression.type": "lz4"})
    meta = consumer.list_topics(args.source, timeout=10).topics[args.source]
    partitions = [TopicPartition(args.source, p) for p in sorted(meta.partitions)]
    ends = {tp.partition: consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in partitions}
    consumer.assign(partitions)
    records = 0
    started = time.perf_counter()
    cpu_started = resource.getrusage(resource.RUSAGE_SELF)
    positions = dict.fromkeys(ends, -1)
    while any(positions[p] + 1 < end for p, end in ends.items()):
        msgs = consumer.consume(BATCH, 0.1)
        for m in msgs:
            if m.error() is not None:
                continue
            while True:
                try:
                    producer.produce(
                        args.sink,
                        convert(m.value()),
                        m.key(),
                        m.partition(),
                        timestamp=m.timestamp()[1],
                        headers=m.headers(),
                    )
                    break
                except BufferError:
                    producer.poll(0.05)
            positions[m.partition()] = m.offset()
        records += len(msgs)
        if msgs:
            producer.flush()
            consumer.commit(asynchronous=True)
    producer.flush()
    with contextlib.suppress(KafkaException):  # _NO_OFFSET: the async commits had it all
        consumer.commit(asynchronous=False)
    consumer.close()
    seconds = time.perf_counter() - started
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    loop_cpu = cpu.ru_utime + cpu.ru_stime - cpu_started.ru_utime - cpu_started.ru_stime
    report(records, seconds, loop_cpu)


def report(records: int, seconds: float, loop_cpu: float, **extra: Any) -> None:
    print(
        json.dumps(
            {
                "records": records,
                "loop_seconds": round(seconds, 3),
                "loop_cpu_seconds": round(loop_cpu, 3),
                "pid": os.getpid(),
                **extra,
            }
        ),
        flush=True,
    )
