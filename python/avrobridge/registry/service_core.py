"""What every registry operation stands on: the state the store's log is applied to, the two
locks, the write path (append to the log, wait until applied) and the schema lookups that
reads and writes share.

Every operation either returns the JSON value Confluent would answer or raises
:class:`RestError`. Writes go through the log: an operation decides, appends records, waits
until the store has applied them, and answers from the state. Two locks:

* ``_write_lock`` serializes writers end to end (decide, check compatibility, append), so
  concurrent registrations of one schema get one id and one version, and ids stay dense;
* ``_state_lock`` guards the state for the short moments it is read or changed, so readers
  never wait for a compatibility check.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from .compiler import Candidate, Compiler
from .records import RecordKey, SchemaValue, encode_json
from .requests import RegisterRequest
from .rest_errors import RestError
from .state import RegistryState, identity_of
from .store import HasIdFloor, LogStore, NotLeaderError, StoreError

__all__ = ["JSON", "Records", "ServiceCore"]

JSON = Any
#: Log records to append: (key, value; None is a tombstone).
Records = list[tuple[RecordKey, JSON | None]]

#: Per write: (the "... operation timed out" subject, the store-error message), as Confluent.
_OPERATIONS = {
    "register": ("Register", "Error while registering schema"),
    "delete_version": ("Delete Schema Version", "Error while deleting Schema Version"),
    "delete_subject": ("Delete Subject", "Error while deleting the subject"),
    "config": ("Update Config", "Failed to update compatibility level"),
    "delete_config": ("Delete Config", "Failed to delete compatibility level"),
    "mode": ("Update Mode", "Failed to update mode"),
    "delete_mode": ("Delete Subject Mode", "Failed to delete subject mode"),
}


class ServiceCore:
    """The registry's state and write path; the operations are its subclasses' (service.py)."""

    def __init__(
        self,
        store: LogStore,
        *,
        max_schema_bytes: int = 1 << 20,
        write_timeout: float = 30.0,
    ) -> None:
        self.state = RegistryState()
        self.store = store
        self.compiler = Compiler(max_schema_bytes)
        self.write_timeout = write_timeout
        self._state_lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._id_floor = store.id_floor if isinstance(store, HasIdFloor) else None
        store.start(self._apply)

    def _apply(self, offset: int, key: bytes, value: bytes | None) -> None:
        with self._state_lock:
            self.state.apply(offset, key, value)

    def _write(self, records: Sequence[tuple[RecordKey, JSON | None]], operation: str) -> None:
        """Appends and waits until applied; store failures become Confluent's 500 errors."""
        encoded = [
            (key.encode(), None if value is None else encode_json(value)) for key, value in records
        ]
        timed_out, failed = _OPERATIONS[operation]
        try:
            offset = self.store.append_all(encoded)
            self.store.wait_applied(offset, self.write_timeout)
        except NotLeaderError:
            raise RestError.unknown_leader() from None
        except TimeoutError:
            raise RestError.operation_timeout(f"{timed_out} operation timed out") from None
        except StoreError as exc:
            raise RestError.store_error(f"{failed}: {exc}") from None

    def _next_id(self) -> int:
        """One above the highest id ever used (state lock held): the log's maximum, and what
        the store remembers beyond it (a compacted Kafka topic may no longer show it)."""
        floor = self._id_floor() if self._id_floor is not None else 0
        return max(self.state.max_id, floor) + 1

    def _candidate(
        self, request: RegisterRequest, normalize: bool, validate_defaults: bool = True
    ) -> Candidate:
        with self._state_lock:
            return self.compiler.candidate(
                self.state,
                request.schema,
                request.schema_type,
                request.references,
                normalize,
                validate_defaults,
            )

    def _in_subject(self, subject: str, candidate: Candidate, deleted: bool) -> SchemaValue | None:
        """The subject's newest version holding exactly this schema (state lock held)."""
        ident = ("AVRO", candidate.text, candidate.references)
        schema_id = self.state.id_for(ident)
        if schema_id is None:
            return None
        matches = [
            v
            for v in self.state.versions_with_id(subject, schema_id)
            if (deleted or not v.deleted) and identity_of(v) == ident
        ]
        return matches[-1] if matches else None

    def _previous(self, values: list[SchemaValue]) -> tuple[list[Any], list[int]]:
        """Parsed previous schemas (oldest first) and their versions, for check_level."""
        schemas, versions = [], []
        with self._state_lock:
            for value in values:
                compiled = self.compiler.stored(self.state, value)
                if compiled is not None:
                    schemas.append(compiled)
                    versions.append(value.version)
        return schemas, versions

    def _check_writable(self, subject: str | None) -> None:
        if self.state.mode_in_scope(subject) in ("READONLY", "READONLY_OVERRIDE"):
            raise RestError.operation_not_permitted(f"Subject {subject} is in read-only mode")

    def close(self) -> None:
        self.store.close()
