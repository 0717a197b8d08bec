"""The log in a compacted Kafka topic, in Confluent's `_schemas` format, shared by instances.

``kafka://host:port[,host:port...]/_schemas[?option=value&...]``

Every instance tails the topic (one consumer thread, partition 0 assigned from the beginning,
no group, ``read_committed``) and applies each record to its state, so reads on any instance
see a write a few tens of milliseconds after it was committed. Exactly one instance writes:

* **Election.** All instances join one consumer group subscribed to a single-partition
  *election topic* (``<topic>_leader``); the member assigned partition 0 is the leader
  (``cooperative-sticky`` assignment, so a joining instance does not take leadership away).
* **Fencing.** The leader writes through a transactional producer whose ``transactional.id``
  is the same on every instance. ``init_transactions`` on a new leader fences every earlier
  one: a former leader that still believes it leads (a pause, a partition) can no longer
  commit, so two instances can never both hand out the next id.
* **Catch-up.** After fencing, the new leader reads both topics to their end before it serves
  a write, so its ids continue from the maximum and its decisions see every earlier write.
* **Announcement.** It then publishes ``{"url", "instance"}`` under the key ``leader`` in the
  election topic; every instance tails that topic too and forwards writes to that URL
  (``forwarding.py``). A write is answered after the leader has consumed its own record.
* **Ids across compaction.** With each write that raises the highest id, the leader also
  writes ``{"maxId": N}`` under the key ``max-id`` in the election topic, in the same
  transaction. That key is never deleted, so the highest id survives the compaction of
  tombstoned schema records, which is where Confluent and Karapace can reuse an id.

Options (query parameters): ``timeout`` (seconds for startup, Kafka operations and leader
forwarding; default 10), ``election_topic``, ``group_id``, ``transactional_id``,
``replication_factor`` (for created topics; default min(3, brokers)),
``session_timeout_ms`` (default 10000: how long a crashed leader keeps leadership); any
parameter containing a dot is passed to every Kafka client as a librdkafka property (e.g.
``security.protocol=SSL&ssl.ca.location=/etc/ca.pem``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from ..errors import ConfigError
from .kafka_config import (
    KafkaStoreConfig,
    Leader,
    describe,
    discard_producer,
    kafka_error,
    produce_max_id,
)
from .kafka_election import ElectingStore
from .kafka_tail import schema_id_of
from .kafka_topics import ensure_topics
from .logstore import Apply, NotLeaderError, StoreError

__all__ = ["KafkaStore", "KafkaStoreConfig", "Leader"]

log = logging.getLogger(__name__)

#: Seconds a fenced leader waits before it tries to lead again (if it still holds partition 0).
_FENCED_BACKOFF = 2.0


class KafkaStore(ElectingStore):
    """A :class:`~avrobridge.registry.store.LogStore` over a Kafka topic, with leader election.

    ``start`` creates the topics if missing and replays the log; ``join_election(url)``
    (called once the HTTP server listens) makes the instance a candidate for leadership.
    Only the leader may ``append``; others raise :class:`NotLeaderError` and the HTTP layer
    forwards their writes to :meth:`leader`.
    """

    def start(self, apply: Apply) -> None:
        """Creates the topics if missing, then replays the log; StoreError when Kafka cannot
        be reached or read within the timeout (nothing is left running then)."""
        self._tracker.bind(apply)
        try:
            ensure_topics(self.config, self._clients)
            self._meta = Consumer(self._clients.consumer_config())
            self._tail = Consumer(self._clients.consumer_config())
            self._tail.assign(
                [
                    TopicPartition(self.config.topic, 0, OFFSET_BEGINNING),
                    TopicPartition(self.config.election_topic, 0, OFFSET_BEGINNING),
                ]
            )
            self._tail_thread = threading.Thread(
                target=self._run_tail, name=f"registry-tail-{self.config.topic}", daemon=True
            )
            self._tail_thread.start()
            ends = self._end_offsets()
            self._wait_positions(ends, self.config.timeout)
        except (StoreError, ConfigError):
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise StoreError(
                f"cannot use Kafka at {self.config.bootstrap}: {describe(exc)}"
            ) from exc
        except BaseException:
            self.close()
            raise
        log.info(
            "read %s to offset %d (%s)",
            self.config.topic,
            ends[self.config.topic],
            self.config.bootstrap,
        )

    def append(self, key: bytes, value: bytes | None) -> int:
        return self.append_all([(key, value)])

    def append_all(self, records: Sequence[tuple[bytes, bytes | None]]) -> int:
        """Writes the records in one transaction; returns the last record's offset.

        NotLeaderError when this instance is not (or no longer) the leader, TimeoutError when
        Kafka did not take them within the timeout, StoreError for other Kafka failures. After
        an error the transaction is aborted; only a timeout of the commit itself leaves the
        outcome open (as with Confluent's timeouts: the client may retry, registering is
        idempotent).
        """
        if not records:
            return self._tracker.applied
        timeout = self.config.timeout
        with self._produce_lock:
            with self._cond:
                producer = self._producer if self._ready else None
                floor = max(self._coordination_max_id, self._log_max_id)
            if producer is None:
                raise NotLeaderError("this instance is not the leader")
            delivered_records: list[Message] = []
            failures: list[KafkaError] = []

            def delivered(err: KafkaError | None, msg: Message) -> None:
                # Kept minimal: after a fatal error (fenced) confluent-kafka runs delivery
                # callbacks with that error's exception already raised, and the call fails
                # with a SystemError caused by it (``_unwrap`` finds the cause).
                if err is not None:
                    failures.append(err)
                else:
                    delivered_records.append(msg)

            top = max((schema_id_of(k, v) for k, v in records), default=0)
            try:
                producer.begin_transaction()
                for key, value in records:
                    producer.produce(
                        self.config.topic, key=key, value=value, partition=0, on_delivery=delivered
                    )
                if top > floor:
                    produce_max_id(producer, self.config, top, on_delivery=delivered)
                if producer.flush(timeout) > 0:
                    raise TimeoutError(f"Kafka did not take the records within {timeout} s")
                if failures:
                    raise KafkaException(failures[0])
                producer.commit_transaction(timeout)
            except BaseException as raised:
                exc = _unwrap(raised)
                self._abort(producer, exc)
                raise self._translate(exc) from raised
            offsets = [
                int(msg.offset() or 0)
                for msg in delivered_records
                if msg.topic() == self.config.topic and msg.offset() is not None
            ]
            if len(offsets) != len(records):
                raise StoreError("Kafka did not report the offsets of the records")
            return max(offsets)

    def _abort(self, producer: Producer, exc: BaseException) -> None:
        err = kafka_error(exc)
        if err is not None and err.fatal():
            # Fenced by a newer leader (or the producer broke): this instance stops writing.
            log.warning("stopping writes: %s", err.str())
            with self._cond:
                if self._producer is producer:
                    self._producer = None
                    self._ready = False
                    # The group is about to tell this instance it lost partition 0; fencing the
                    # new leader back before that would only make the two take turns.
                    self._not_before = time.monotonic() + _FENCED_BACKOFF
                    self._cond.notify_all()
            return
        try:
            producer.abort_transaction(min(self.config.timeout, 2.0))
        except Exception as abort_exc:  # the transaction times out on the broker anyway
            log.warning("could not abort a transaction: %s", describe(abort_exc))
            with self._cond:
                if self._producer is producer:
                    # Its state is unknown: become leader again with a fresh producer.
                    self._producer = None
                    self._ready = False
                    self._cond.notify_all()

    def _translate(self, exc: BaseException) -> BaseException:
        if isinstance(exc, TimeoutError | StoreError):
            return exc
        err = kafka_error(exc)
        if err is not None:
            if err.fatal():
                return NotLeaderError(f"another instance took over as leader ({err.str()})")
            if err.code() in (KafkaError._TIMED_OUT, KafkaError.REQUEST_TIMED_OUT):
                return TimeoutError(err.str())
        return StoreError(describe(exc))

    def close(self) -> None:
        """Leaves the election (another instance takes over), then stops reading."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._election_thread is not None:
            self._election_thread.join(timeout=self.config.timeout + 5)
        with self._cond:
            producer, self._producer = self._producer, None
            self._ready = False
            self._assigned = False
            self._cond.notify_all()
        if producer is not None:
            discard_producer(producer)
        if self._tail_thread is not None:
            self._tail_thread.join(timeout=5)
        for consumer in (self._tail, self._meta):
            if consumer is not None:
                try:
                    consumer.close()
                except Exception as exc:  # already closed by a failed start
                    log.debug("closing a consumer: %s", exc)
        self._tail = self._meta = None


def _unwrap(exc: BaseException) -> BaseException:
    """The KafkaException behind a SystemError that a callback raised while it was pending."""
    seen = exc
    for _ in range(5):
        if not isinstance(seen, SystemError):
            break
        cause = seen.__cause__ or seen.__context__
        if cause is None:
            break
        seen = cause
    return seen if isinstance(seen, KafkaException) else exc
