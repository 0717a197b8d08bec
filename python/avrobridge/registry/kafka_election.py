"""Leader election of the Kafka store (see ``kafkastore.py`` for the protocol)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

from confluent_kafka import (
    Consumer,
    Producer,
    TopicPartition,
)

from .kafka_config import LEADER_KEY, Leader, describe, discard_producer, produce_max_id
from .kafka_tail import TailingStore

log = logging.getLogger("avrobridge.registry.kafkastore")


class ElectingStore(TailingStore):
    """Leader election over the election topic's consumer group: the member holding its
    partition 0 fences earlier leaders, catches up, announces itself, then writes."""

    def join_election(self, advertise_url: str) -> None:
        """Becomes a candidate for leadership; writes through ``advertise_url`` once leader."""
        if self._election_thread is not None or self._stop.is_set():
            return
        self.advertise_url = advertise_url.rstrip("/")
        self._election_thread = threading.Thread(
            target=self._run_election, name=f"registry-election-{self.config.topic}", daemon=True
        )
        self._election_thread.start()

    def leader(self) -> Leader | None:
        """This instance once it leads and is ready, the announced leader, or None while no
        leader is known (an election is running, or the announcement is this instance's own
        from before a restart)."""
        with self._cond:
            if self._ready and self.advertise_url is not None:
                return Leader(self.advertise_url, self.instance_id, True)
            if self._assigned:
                return None  # becoming the leader
            announced = self._announced
        if announced is None or announced.is_self or announced.url == self.advertise_url:
            return None
        return announced

    @property
    def is_leader(self) -> bool:
        with self._cond:
            return self._ready

    @property
    def applied_offset(self) -> int:
        """The offset of the last `_schemas` record this instance applied."""
        return self._tracker.applied

    def _run_election(self) -> None:
        consumer = Consumer(
            self._clients.config(
                {
                    "group.id": self.config.group_id,
                    "partition.assignment.strategy": "cooperative-sticky",
                    "session.timeout.ms": self.config.session_timeout_ms,
                    "heartbeat.interval.ms": min(500, self.config.session_timeout_ms // 3),
                    "enable.auto.commit": False,
                    "auto.offset.reset": "latest",
                }
            )
        )
        consumer.subscribe(
            [self.config.election_topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )
        retry_at = 0.0
        try:
            while not self._stop.is_set():
                try:
                    consumer.poll(0.1)
                except Exception as exc:
                    self._log.warning("election: %s", describe(exc))
                with self._cond:
                    pending = self._assigned and not self._ready
                    term = self._term
                    not_before = max(retry_at, self._not_before)
                if pending and time.monotonic() >= not_before:
                    try:
                        self._become_leader(term)
                    except Exception as exc:
                        log.warning("could not become the leader yet: %s", describe(exc))
                        retry_at = time.monotonic() + 1.0
        finally:
            self._step_down()
            try:
                consumer.close()  # leaves the group: another instance takes over at once
            except Exception as exc:
                log.debug("closing the election consumer: %s", exc)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if any(p.partition == 0 for p in partitions):
            with self._cond:
                self._assigned = True
                self._term += 1
                self._cond.notify_all()
            log.info("elected leader of %s (term %d)", self.config.topic, self._term)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if any(p.partition == 0 for p in partitions):
            log.info("no longer the leader of %s", self.config.topic)
            self._step_down()

    def _step_down(self) -> None:
        with self._cond:
            self._assigned = False
            self._ready = False
            self._cond.notify_all()

    def _become_leader(self, term: int) -> None:
        """Fences earlier leaders, reads to the end, announces; then serves writes."""
        timeout = self.config.timeout
        producer = Producer(
            self._clients.config(
                {
                    "transactional.id": self.config.transactional_id,
                    "transaction.timeout.ms": int(max(timeout * 3, 10) * 1000),
                    "message.timeout.ms": int(timeout * 1000),
                    "linger.ms": 0,
                },
                # Fatal errors (fenced) surface as exceptions of the calls; confluent-kafka
                # would run this callback with that exception already raised.
                error_cb=False,
            )
        )
        try:
            with self._produce_lock:
                old, self._producer = self._producer, None
            if old is not None:
                discard_producer(old)
            producer.init_transactions(timeout)  # earlier leaders can no longer commit
            self._wait_positions(self._end_offsets(), timeout)
            with self._cond:
                top = self._log_max_id
                floor = self._coordination_max_id
            producer.begin_transaction()
            assert self.advertise_url is not None
            announcement = {
                "url": self.advertise_url,
                "instance": self.instance_id,
                "host": socket.gethostname(),
                "since": int(time.time() * 1000),
            }
            producer.produce(
                self.config.election_topic,
                key=LEADER_KEY,
                value=json.dumps(announcement).encode(),
                partition=0,
            )
            if top > floor:
                produce_max_id(producer, self.config, top)
            producer.commit_transaction(timeout)
        except BaseException:
            discard_producer(producer)
            raise
        with self._produce_lock, self._cond:
            if self._assigned and self._term == term and not self._stop.is_set():
                self._producer = producer
                self._ready = True
                self._cond.notify_all()
                log.info("leader of %s at %s", self.config.topic, self.advertise_url)
                return
        discard_producer(producer)
