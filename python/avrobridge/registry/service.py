"""The registry's operations, with Confluent Schema Registry's semantics.

Every method either returns the JSON value Confluent would answer or raises
:class:`RestError`. Writes go through the log: the service decides, appends records, waits
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

from ..compat import CompatibilityLevel, check_level
from .compiler import Candidate, Compiler
from .records import RecordKey, SchemaValue, encode_json, schema_value_json
from .requests import RegisterRequest, coerce_str, is_valid_subject, parse_version, require_object
from .rest_errors import RestError
from .state import MODES, RegistryState, identity_of
from .store import HasIdFloor, LogStore, NotLeaderError, StoreError

__all__ = ["RegistryService", "schema_entity"]

JSON = Any

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


def schema_entity(value: SchemaValue) -> dict[str, JSON]:
    """Confluent's ``Schema`` entity: subject, version, id, [schemaType], [references], schema."""
    out: dict[str, JSON] = {
        "subject": value.subject,
        "version": value.version,
        "id": value.schema_id,
    }
    if value.schema_type != "AVRO":
        out["schemaType"] = value.schema_type
    if value.references:
        out["references"] = [r.to_json() for r in value.references]
    out["schema"] = value.schema
    return out


def _page(items: list[Any], offset: int, limit: int) -> list[Any]:
    start = max(offset, 0)
    return items[start:] if limit < 0 else items[start : start + limit]


class RegistryService:
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

    # -- subjects and versions ---------------------------------------------------------

    def list_subjects(
        self, prefix: str, deleted: bool, deleted_only: bool, offset: int, limit: int
    ) -> list[str]:
        if prefix == ":*:":  # Confluent's "all contexts" wildcard, the default prefix
            prefix = ""
        with self._state_lock:
            names = self.state.subject_names(prefix, deleted=deleted, deleted_only=deleted_only)
        return _page(names, offset, limit)

    def list_versions(
        self, subject: str, deleted: bool, deleted_only: bool, offset: int, limit: int
    ) -> list[int]:
        with self._state_lock:
            if not self.state.has_subject(subject, deleted=deleted or deleted_only):
                raise RestError.subject_not_found(subject)
            found = self.state.versions(subject, deleted=deleted, deleted_only=deleted_only)
        return _page([v.version for v in found], offset, limit)

    def _get(self, subject: str, version_text: str, deleted: bool) -> SchemaValue:
        version = parse_version(version_text)
        with self._state_lock:
            found = self.state.version(subject, version, deleted=deleted)
            if found is None:
                if not self.state.has_subject(subject, deleted=deleted):
                    raise RestError.subject_not_found(subject)
                raise RestError.version_not_found(version)
        return found

    def get_version(self, subject: str, version: str, deleted: bool) -> dict[str, JSON]:
        return schema_entity(self._get(subject, version, deleted))

    def get_version_schema(self, subject: str, version: str, deleted: bool) -> str:
        return self._get(subject, version, deleted).schema

    def referenced_by(self, subject: str, version: str, offset: int, limit: int) -> list[int]:
        target = self._get(subject, version, deleted=True)
        with self._state_lock:
            ids = self.state.referrers(target.subject, target.version)
        return _page(ids, offset, limit)

    # -- schemas by id -----------------------------------------------------------------

    def schema_by_id(self, schema_id: int, fetch_max_id: bool = False) -> dict[str, JSON]:
        with self._state_lock:
            found = self.state.by_id(schema_id)
            max_id = self.state.max_id
        if found is None:
            raise RestError.schema_not_found(schema_id)
        out: dict[str, JSON] = {}
        if found.schema_type != "AVRO":
            out["schemaType"] = found.schema_type
        out["schema"] = found.schema
        if found.references:
            out["references"] = [r.to_json() for r in found.references]
        if fetch_max_id:
            out["maxId"] = max_id
        return out

    def schema_text_by_id(self, schema_id: int) -> str:
        with self._state_lock:
            found = self.state.by_id(schema_id)
        if found is None:
            raise RestError.schema_not_found(schema_id)
        return found.schema

    def _keys_for_id(
        self, schema_id: int, subject: str | None, deleted: bool
    ) -> list[tuple[str, int]]:
        with self._state_lock:
            if self.state.by_id(schema_id) is None:
                raise RestError.schema_not_found(schema_id)
            keys = self.state.keys_for_id(schema_id, deleted=deleted)
        return [k for k in keys if subject is None or k[0] == subject]

    def subjects_for_id(
        self, schema_id: int, subject: str | None, deleted: bool, offset: int, limit: int
    ) -> list[str]:
        names = sorted({s for s, _ in self._keys_for_id(schema_id, subject, deleted)})
        return _page(names, offset, limit)

    def versions_for_id(
        self, schema_id: int, subject: str | None, deleted: bool, offset: int, limit: int
    ) -> list[dict[str, JSON]]:
        keys = self._keys_for_id(schema_id, subject, deleted)
        return _page([{"subject": s, "version": v} for s, v in keys], offset, limit)

    def list_schemas(
        self, prefix: str, deleted: bool, latest_only: bool, offset: int, limit: int
    ) -> list[dict[str, JSON]]:
        if prefix == ":*:":
            prefix = ""
        with self._state_lock:
            values = list(self.state.all_versions(prefix, deleted=deleted))
        if latest_only:
            latest: dict[str, SchemaValue] = {}
            for value in values:
                latest[value.subject] = value
            values = list(latest.values())
        return _page([schema_entity(v) for v in values], offset, limit)

    # -- lookup, compatibility ---------------------------------------------------------

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

    def lookup(self, subject: str, body: JSON, normalize: bool, deleted: bool) -> dict[str, JSON]:
        request = RegisterRequest.parse(body)
        found = None
        # Like Confluent: as asked, then (if that missed) normalized; parsed as not new, so
        # field defaults are not validated (an imported schema may carry invalid ones).
        for norm in (True,) if normalize else (False, True):
            candidate = self._candidate(request, norm, validate_defaults=False)
            with self._state_lock:
                found = self._in_subject(subject, candidate, deleted)
            if found is not None:
                break
        if found is None:
            with self._state_lock:
                if not self.state.has_subject(subject, deleted=deleted):
                    raise RestError.subject_not_found(subject)
            raise RestError.schema_not_found()
        return schema_entity(found)

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

    def test_compatibility(
        self, subject: str, version: str | None, body: JSON, normalize: bool, verbose: bool
    ) -> dict[str, JSON]:
        request = RegisterRequest.parse(body)
        if version is not None:
            number = parse_version(version)
            with self._state_lock:
                target = self.state.version(subject, number, deleted=False)
            if target is None and number != -1:
                raise RestError.version_not_found(number)
            previous = [target] if target is not None else []
        else:
            with self._state_lock:
                previous = self.state.versions(subject)
        try:
            candidate = self._candidate(request, normalize)
        except RestError as exc:
            if verbose and exc.error_code == 42201:
                return {"is_compatible": False, "messages": [exc.message]}
            raise
        schemas, versions = self._previous(previous)
        with self._state_lock:
            level = self.state.level_in_scope(subject)
        result = check_level(candidate.schema, schemas, level, versions=versions)
        out: dict[str, JSON] = {"is_compatible": result.is_compatible}
        if verbose:
            out["messages"] = list(result.messages)
        return out

    # -- register ----------------------------------------------------------------------

    def register(self, subject: str, body: JSON, normalize: bool) -> dict[str, JSON]:
        """Confluent's ``registerOrForward`` + ``register`` (see docs/registry.md, Modes)."""
        request = RegisterRequest.parse(body)
        if not is_valid_subject(subject):
            raise RestError.invalid_subject(subject)
        # As Confluent's Schema(subject, request): no id is -1 (any negative id means none),
        # no version is 0 (any version <= 0 means "the next one").
        wanted = request.schema_id if request.schema_id is not None else -1
        version = request.version if request.version is not None else 0
        # Parsed outside the write lock (it may be slow); an invalid schema is reported where
        # Confluent reports it: first when no version is given, else after the mode check.
        try:
            candidate: Candidate | None = self._candidate(
                request, normalize, validate_defaults=wanted < 0
            )
            invalid: RestError | None = None
        except RestError as exc:
            if version == 0:
                raise
            candidate, invalid = None, exc
        with self._write_lock:
            if candidate is not None and version == 0:
                # registerOrForward: a schema the subject already holds answers its id in any
                # mode, unless the request asks for another id.
                with self._state_lock:
                    existing = self._in_subject(subject, candidate, deleted=False)
                if existing is not None and wanted in (-1, existing.schema_id):
                    return {"id": existing.schema_id}
            with self._state_lock:
                mode = self.state.mode_in_scope(subject)
            self._check_register_mode(subject, mode, wanted)
            if invalid is not None or candidate is None:
                raise invalid or RestError.invalid_schema("Empty schema")
            return {"id": self._register_locked(subject, candidate, wanted, version, mode)}

    def _register_locked(
        self, subject: str, candidate: Candidate, wanted: int, version: int, mode: str
    ) -> int:
        state = self.state
        schema_id = wanted if wanted >= 0 else -1
        with self._state_lock:
            known = state.id_for(("AVRO", candidate.text, candidate.references))
            if known is not None and schema_id in (-1, known):
                if version == 0:
                    live = self._in_subject(subject, candidate, deleted=False)
                    if live is not None:
                        return live.schema_id
                schema_id = known
            all_versions = state.versions(subject, deleted=True)
            live_versions = [v for v in all_versions if not v.deleted]
            level = state.level_in_scope(subject)
        if mode != "IMPORT":
            schemas, versions = self._previous(live_versions)
            result = check_level(candidate.schema, schemas, level, versions=versions)
            if not result.is_compatible:
                raise RestError.incompatible(subject, list(result.messages))
        new_version = max((v.version for v in all_versions), default=0) + 1
        if version <= 0:
            version = new_version
        elif version != new_version and mode != "IMPORT":
            raise RestError.invalid_schema("Version is not one more than previous version")
        with self._state_lock:
            if schema_id >= 0:
                holder = state.by_id(schema_id)
                if holder is not None and identity_of(holder) != (
                    "AVRO",
                    candidate.text,
                    candidate.references,
                ):
                    raise RestError.operation_not_permitted(
                        f"Overwrite new schema with id {schema_id} is not permitted."
                    )
            else:
                schema_id = self._next_id()
        value = SchemaValue(
            subject=subject,
            version=version,
            schema_id=schema_id,
            schema=candidate.text,
            references=candidate.references,
        )
        records: list[tuple[RecordKey, JSON | None]] = [
            (RecordKey.schema(subject, version), schema_value_json(value))
        ]
        # Confluent tombstones older soft-deleted versions of the same schema in the subject.
        records += [
            (RecordKey.schema(subject, old.version), None)
            for old in all_versions
            if old.deleted and old.schema_id == schema_id and old.version < version
        ]
        self._write(records, "register")
        return schema_id

    @staticmethod
    def _check_register_mode(subject: str, mode: str, wanted: int) -> None:
        """Confluent's checkRegisterMode: an explicit id needs IMPORT, none needs READWRITE."""
        if mode in ("READONLY", "READONLY_OVERRIDE"):
            raise RestError.operation_not_permitted(f"Subject {subject} is in read-only mode")
        if wanted >= 0 and mode != "IMPORT":
            raise RestError.operation_not_permitted(f"Subject {subject} is not in import mode")
        if wanted < 0 and mode != "READWRITE":
            raise RestError.operation_not_permitted(f"Subject {subject} is not in read-write mode")

    def _check_writable(self, subject: str | None) -> None:
        if self.state.mode_in_scope(subject) in ("READONLY", "READONLY_OVERRIDE"):
            raise RestError.operation_not_permitted(f"Subject {subject} is in read-only mode")

    # -- deletes -----------------------------------------------------------------------

    def delete_version(self, subject: str, version_text: str, permanent: bool) -> int:
        number = parse_version(version_text)
        with self._write_lock:
            with self._state_lock:
                state = self.state
                target = state.version(subject, number, deleted=True)
                live = state.version(subject, number, deleted=False)
                if target is not None and live is None and not permanent:
                    raise RestError.version_soft_deleted(subject, version_text)
                if target is None:
                    if not state.has_subject(subject, deleted=True):
                        raise RestError.subject_not_found(subject)
                    raise RestError.version_not_found(number)
                self._check_writable(subject)
                if state.referrers(subject, target.version):
                    raise RestError.reference_exists(subject, target.version)
                if permanent and not target.deleted:
                    raise RestError.version_not_soft_deleted(subject, str(target.version))
                records: list[tuple[RecordKey, JSON | None]]
                if permanent:
                    records = [(RecordKey.schema(subject, target.version), None)]
                else:
                    deleted = SchemaValue(
                        subject=target.subject,
                        version=target.version,
                        schema_id=target.schema_id,
                        schema=target.schema,
                        schema_type=target.schema_type,
                        references=target.references,
                        deleted=True,
                    )
                    records = [
                        (RecordKey.schema(subject, target.version), schema_value_json(deleted))
                    ]
                    others_live = any(
                        not v.deleted and v.version != target.version
                        for v in state.versions(subject)
                    )
                    if not others_live:
                        records += self._forget_settings(subject)
            self._write(records, "delete_version")
        return target.version

    def _forget_settings(self, subject: str) -> list[tuple[RecordKey, JSON | None]]:
        """Tombstones for the subject's mode and compatibility, as Confluent writes when a
        subject loses its last live version."""
        records: list[tuple[RecordKey, JSON | None]] = []
        if self.state.mode(subject) is not None:
            records.append((RecordKey.mode(subject), None))
        if self.state.level(subject) is not None:
            records.append((RecordKey.config(subject), None))
        return records

    def delete_subject(self, subject: str, permanent: bool) -> list[int]:
        with self._write_lock:
            with self._state_lock:
                state = self.state
                if not state.has_subject(subject, deleted=True):
                    raise RestError.subject_not_found(subject)
                if not permanent and not state.has_subject(subject, deleted=False):
                    raise RestError.subject_soft_deleted(subject)
                self._check_writable(subject)
                targets = state.versions(subject, deleted=permanent)
                for value in targets:
                    if state.referrers(subject, value.version):
                        raise RestError.reference_exists(subject, value.version)
                    if permanent and not value.deleted:
                        raise RestError.subject_not_soft_deleted(subject)
                versions = [v.version for v in targets]
                records: list[tuple[RecordKey, JSON | None]]
                if permanent:
                    records = [(RecordKey.schema(subject, v), None) for v in versions]
                else:
                    records = [
                        (
                            RecordKey.delete_subject(subject),
                            {"subject": subject, "version": versions[-1]},
                        )
                    ]
                    records += self._forget_settings(subject)
            if records:
                self._write(records, "delete_subject")
        return versions

    # -- config ------------------------------------------------------------------------

    def get_config(self, subject: str | None, default_to_global: bool) -> dict[str, JSON]:
        with self._state_lock:
            if subject is None:
                return {"compatibilityLevel": self.state.level_in_scope(None)}
            level = (
                self.state.level_in_scope(subject)
                if default_to_global
                else self.state.level(subject)
            )
        if level is None:
            raise RestError.subject_level_compatibility_not_configured(subject)
        return {"compatibilityLevel": level}

    def set_config(self, subject: str | None, body: JSON) -> dict[str, JSON]:
        data = require_object(body, "ConfigUpdateRequest")
        raw = data.get("compatibility")
        if raw is None:
            raw = data.get("compatibilityLevel")
        text = coerce_str(raw, "compatibility")
        try:
            level = CompatibilityLevel.parse(text or "")
        except ValueError:
            raise RestError.invalid_compatibility_level() from None
        if subject is not None and (not is_valid_subject(subject)):
            raise RestError.invalid_subject(subject)
        with self._write_lock:
            with self._state_lock:
                self._check_writable(subject)
            self._write(
                [(RecordKey.config(subject), {"compatibilityLevel": level.value})], "config"
            )
        # Confluent echoes the request as sent.
        return {"compatibility": text}

    def delete_config(self, subject: str | None) -> dict[str, JSON]:
        with self._write_lock:
            with self._state_lock:
                if subject is None:
                    old = self.state.level_in_scope(None)
                else:
                    found = self.state.level(subject)
                    if found is None:
                        raise RestError.subject_not_found(subject)
                    old = found
                self._check_writable(subject)
            self._write([(RecordKey.config(subject), None)], "delete_config")
        return {"compatibilityLevel": old}

    # -- mode --------------------------------------------------------------------------

    def get_mode(self, subject: str | None, default_to_global: bool) -> dict[str, JSON]:
        with self._state_lock:
            if subject is None:
                return {"mode": self.state.mode_in_scope(None)}
            mode = (
                self.state.mode_in_scope(subject) if default_to_global else self.state.mode(subject)
            )
        if mode is None:
            raise RestError.subject_level_mode_not_configured(subject)
        return {"mode": mode}

    def set_mode(self, subject: str | None, body: JSON, force: bool) -> dict[str, JSON]:
        data = require_object(body, "ModeUpdateRequest")
        text = coerce_str(data.get("mode"), "mode")
        if subject is not None and not is_valid_subject(subject):
            raise RestError.invalid_subject(subject)
        mode = (text or "").upper()
        if mode not in MODES:
            raise RestError.invalid_mode()
        with self._write_lock:
            records: list[tuple[RecordKey, JSON | None]] = []
            with self._state_lock:
                state = self.state
                if mode == "IMPORT" and state.mode_in_scope(subject) != "IMPORT" and not force:
                    records += self._clear_for_import(subject)
            records.append((RecordKey.mode(subject), {"mode": mode}))
            self._write(records, "mode")
        return {"mode": text}

    def _clear_for_import(self, subject: str | None) -> list[tuple[RecordKey, JSON | None]]:
        """Confluent's setMode to IMPORT without force (state lock held): the scope must have
        no live subject; its soft-deleted versions are hard-deleted (42206 while a live
        schema references one), then CLEAR_SUBJECT drops them from the caches."""
        state = self.state
        names = state.subject_names(deleted=True) if subject is None else [subject]
        if any(state.has_subject(name) for name in names):
            raise RestError.operation_not_permitted("Cannot import since found existing subjects")
        records: list[tuple[RecordKey, JSON | None]] = []
        for name in names:
            for value in state.versions(name, deleted=True):
                if state.referrers(name, value.version):
                    raise RestError.reference_exists(name, value.version)
                records.append((RecordKey.schema(name, value.version), None))
        records.append((RecordKey.clear_subject(subject), {"subject": subject}))
        return records

    def delete_mode(self, subject: str) -> dict[str, JSON]:
        with self._write_lock:
            with self._state_lock:
                old = self.state.mode(subject)
            if old is None:
                raise RestError.subject_not_found(subject)
            self._write([(RecordKey.mode(subject), None)], "delete_mode")
        return {"mode": old}

    # -- misc --------------------------------------------------------------------------

    def close(self) -> None:
        self.store.close()
