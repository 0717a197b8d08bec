"""The registry's state: a pure fold over the `_schemas` log, in offset order.

Nothing here does I/O or takes locks; the store feeds records to :meth:`RegistryState.apply`
and the service reads through the query methods (holding its own lock). Replaying the same
log always rebuilds the same state, which is what makes SQLite restarts and a Kafka-backed
store possible.

Semantics follow Confluent's ``KafkaStoreMessageHandler``/``InMemoryCache``:
SCHEMA sets (or with a null value removes) one subject version; DELETE_SUBJECT marks every
version up to ``version`` deleted; CLEAR_SUBJECT forgets soft-deleted versions; CONFIG and
MODE set (or remove) a subject's or the global setting; NOOP and unknown keys do nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from ..compat import CompatibilityLevel
from .records import (
    KeyType,
    Reference,
    SchemaValue,
    decode_key,
    decode_value,
    parse_schema_value,
)

__all__ = ["DEFAULT_LEVEL", "DEFAULT_MODE", "MODES", "Identity", "RegistryState", "identity_of"]

log = logging.getLogger(__name__)

DEFAULT_LEVEL = CompatibilityLevel.BACKWARD.value
DEFAULT_MODE = "READWRITE"
MODES = ("READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT")
_LEVELS = frozenset(level.value for level in CompatibilityLevel)

#: What makes two registrations "the same schema" (Confluent hashes exactly these).
Identity = tuple[str, str, tuple[Reference, ...]]


def identity_of(value: SchemaValue) -> Identity:
    return (value.schema_type, value.schema, value.references)


@dataclass
class RegistryState:
    """Subjects, versions, ids, configs and modes as of ``offset``."""

    subjects: dict[str, dict[int, SchemaValue]] = field(default_factory=dict)
    #: id -> the (subject, version) pairs that carry it, deleted ones included.
    id_keys: dict[int, set[tuple[str, int]]] = field(default_factory=dict)
    identities: dict[Identity, int] = field(default_factory=dict)
    #: Highest id ever seen, also after hard deletes: ids are never reused.
    max_id: int = 0
    #: None is the global setting.
    configs: dict[str | None, str] = field(default_factory=dict)
    modes: dict[str | None, str] = field(default_factory=dict)
    offset: int = -1
    #: Bumped by every applied record; caches compare it to know they are stale.
    generation: int = 0

    # -- applying records -------------------------------------------------------------

    def apply(self, offset: int, key: bytes, value: bytes | None) -> None:
        """Applies one log record. Malformed or unknown records are skipped, never raised."""
        self.offset = max(self.offset, offset)
        self.generation += 1
        record_key = decode_key(key)
        if record_key is None:
            log.warning("skipping record at offset %d: unrecognised key", offset)
            return
        data = decode_value(value)
        kt, subject = record_key.keytype, record_key.subject
        if kt is KeyType.SCHEMA:
            assert subject is not None and record_key.version is not None
            if data is None:
                self._remove_version(subject, record_key.version)
                return
            parsed = parse_schema_value(subject, record_key.version, data)
            if parsed is None:
                log.warning("skipping SCHEMA record at offset %d: malformed value", offset)
                return
            self._put_version(parsed)
        elif kt is KeyType.DELETE_SUBJECT:
            until = data.get("version") if data else None
            if subject is not None and isinstance(until, int):
                self._soft_delete_until(subject, until)
        elif kt is KeyType.CLEAR_SUBJECT:
            self._clear_deleted(subject)
        elif kt is KeyType.CONFIG:
            self._set_setting(self.configs, subject, data, "compatibilityLevel", _LEVELS)
        elif kt is KeyType.MODE:
            self._set_setting(self.modes, subject, data, "mode", frozenset(MODES))

    def _put_version(self, value: SchemaValue) -> None:
        versions = self.subjects.setdefault(value.subject, {})
        old = versions.get(value.version)
        if old is not None and old.schema_id != value.schema_id:
            self._unlink(old)
        versions[value.version] = value
        self.id_keys.setdefault(value.schema_id, set()).add((value.subject, value.version))
        # The last applied record wins, as Confluent's hash -> id map: one schema may carry
        # two ids only through IMPORT, and then the newest import names it.
        self.identities[identity_of(value)] = value.schema_id
        self.max_id = max(self.max_id, value.schema_id)

    def _remove_version(self, subject: str, version: int) -> None:
        versions = self.subjects.get(subject)
        if not versions or version not in versions:
            return
        self._unlink(versions.pop(version))
        if not versions:
            del self.subjects[subject]

    def _unlink(self, value: SchemaValue) -> None:
        keys = self.id_keys.get(value.schema_id)
        if keys is None:
            return
        keys.discard((value.subject, value.version))
        if not keys:
            # The id serves nothing any more; registering the schema again gets a new id.
            del self.id_keys[value.schema_id]
            ident = identity_of(value)
            if self.identities.get(ident) == value.schema_id:
                del self.identities[ident]

    def _soft_delete_until(self, subject: str, until: int) -> None:
        versions = self.subjects.get(subject, {})
        for version, value in list(versions.items()):
            if version <= until and not value.deleted:
                versions[version] = replace(value, deleted=True)

    def _clear_deleted(self, subject: str | None) -> None:
        targets = [subject] if subject is not None else list(self.subjects)
        for name in targets:
            for version, value in list(self.subjects.get(name, {}).items()):
                if value.deleted:
                    self._remove_version(name, version)

    @staticmethod
    def _set_setting(
        table: dict[str | None, str],
        subject: str | None,
        data: dict[str, object] | None,
        field_name: str,
        allowed: frozenset[str],
    ) -> None:
        setting = data.get(field_name) if data else None
        if isinstance(setting, str) and setting.upper() in allowed:
            table[subject] = setting.upper()
        else:
            # A tombstone, or a value without this setting (Confluent's newer config values
            # may carry only other fields): the subject falls back to the global setting.
            table.pop(subject, None)

    # -- queries ----------------------------------------------------------------------

    def versions(
        self, subject: str, *, deleted: bool = False, deleted_only: bool = False
    ) -> list[SchemaValue]:
        """The subject's versions, oldest first, filtered as Confluent's LookupFilter."""
        values = sorted(self.subjects.get(subject, {}).values(), key=lambda v: v.version)
        if deleted_only:
            return [v for v in values if v.deleted]
        if deleted:
            return values
        return [v for v in values if not v.deleted]

    def has_subject(self, subject: str, *, deleted: bool = False) -> bool:
        values = self.subjects.get(subject)
        if not values:
            return False
        return deleted or any(not v.deleted for v in values.values())

    def version(self, subject: str, version: int, *, deleted: bool = False) -> SchemaValue | None:
        """One version; ``-1`` is the latest. Deleted versions only with ``deleted``."""
        if version == -1:
            found = self.versions(subject, deleted=deleted)
            return found[-1] if found else None
        value = self.subjects.get(subject, {}).get(version)
        if value is None or (value.deleted and not deleted):
            return None
        return value

    def subject_names(
        self, prefix: str = "", *, deleted: bool = False, deleted_only: bool = False
    ) -> list[str]:
        """Sorted subjects; a subject counts as deleted when all its versions are."""
        names = []
        for name, values in self.subjects.items():
            if not name.startswith(prefix) or not values:
                continue
            all_deleted = all(v.deleted for v in values.values())
            if all_deleted if deleted_only else deleted or not all_deleted:
                names.append(name)
        return sorted(names)

    def by_id(self, schema_id: int) -> SchemaValue | None:
        """Any version carrying the id (deleted ones serve too, as in Confluent)."""
        keys = self.id_keys.get(schema_id)
        if not keys:
            return None
        subject, version = min(keys)
        return self.subjects[subject][version]

    def keys_for_id(self, schema_id: int, *, deleted: bool = False) -> list[tuple[str, int]]:
        keys = sorted(self.id_keys.get(schema_id, ()))
        if deleted:
            return keys
        return [(s, v) for s, v in keys if not self.subjects[s][v].deleted]

    def id_for(self, identity: Identity) -> int | None:
        return self.identities.get(identity)

    def versions_with_id(self, subject: str, schema_id: int) -> list[SchemaValue]:
        """The subject's versions that carry ``schema_id``, oldest first."""
        return [v for v in self.versions(subject, deleted=True) if v.schema_id == schema_id]

    def referrers(self, subject: str, version: int) -> list[int]:
        """Ids of live schemas that reference ``subject`` ``version`` (soft-deleted ones don't
        count: deleting the referrer first frees the referenced schema, as in Confluent)."""
        ids = set()
        for values in self.subjects.values():
            for value in values.values():
                if value.deleted:
                    continue
                if any(r.subject == subject and r.version == version for r in value.references):
                    ids.add(value.schema_id)
        return sorted(ids)

    def level(self, subject: str | None) -> str | None:
        return self.configs.get(subject)

    def level_in_scope(self, subject: str | None) -> str:
        return self.configs.get(subject) or self.configs.get(None) or DEFAULT_LEVEL

    def mode(self, subject: str | None) -> str | None:
        """The subject's own mode; a global READONLY_OVERRIDE overrides it (as Confluent's
        getMode)."""
        if self.modes.get(None) == "READONLY_OVERRIDE":
            return "READONLY_OVERRIDE"
        return self.modes.get(subject)

    def mode_in_scope(self, subject: str | None) -> str:
        return self.mode(subject) or self.modes.get(None) or DEFAULT_MODE

    def all_versions(self, prefix: str = "", *, deleted: bool = False) -> Iterable[SchemaValue]:
        for name in sorted(self.subjects):
            if name.startswith(prefix):
                yield from self.versions(name, deleted=deleted)
