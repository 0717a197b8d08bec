"""Registering a schema under a subject, as Confluent's ``registerOrForward`` and
``register`` do: the id of a schema the subject holds, else the compatibility check, the
mode rules (an explicit id or version only in IMPORT mode) and one new version."""

from __future__ import annotations

from ..compat import check_level
from .compiler import Candidate
from .records import RecordKey, SchemaValue, schema_value_json
from .requests import RegisterRequest, is_valid_subject
from .rest_errors import RestError
from .service_core import JSON, Records, ServiceCore
from .state import identity_of

__all__ = ["Registration"]


class Registration(ServiceCore):
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
        records: Records = [(RecordKey.schema(subject, version), schema_value_json(value))]
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
