"""The registry's read operations: subjects and their versions, schemas by id, lookup of a
schema in a subject, and the compatibility test (which writes nothing)."""

from __future__ import annotations

from ..compat import check_level
from .records import SchemaValue, schema_entity
from .requests import Page, RegisterRequest, parse_version
from .rest_errors import RestError
from .service_core import JSON, ServiceCore

__all__ = ["Reads"]


class Reads(ServiceCore):
    def list_subjects(
        self, prefix: str, deleted: bool, deleted_only: bool, page: Page
    ) -> list[str]:
        if prefix == ":*:":  # Confluent's "all contexts" wildcard, the default prefix
            prefix = ""
        with self._state_lock:
            names = self.state.subject_names(prefix, deleted=deleted, deleted_only=deleted_only)
        return page.of(names)

    def list_versions(
        self, subject: str, deleted: bool, deleted_only: bool, page: Page
    ) -> list[int]:
        with self._state_lock:
            if not self.state.has_subject(subject, deleted=deleted or deleted_only):
                raise RestError.subject_not_found(subject)
            found = self.state.versions(subject, deleted=deleted, deleted_only=deleted_only)
        return page.of([v.version for v in found])

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

    def referenced_by(self, subject: str, version: str, page: Page) -> list[int]:
        target = self._get(subject, version, deleted=True)
        with self._state_lock:
            ids = self.state.referrers(target.subject, target.version)
        return page.of(ids)

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
        self, schema_id: int, subject: str | None, deleted: bool, page: Page
    ) -> list[str]:
        names = sorted({s for s, _ in self._keys_for_id(schema_id, subject, deleted)})
        return page.of(names)

    def versions_for_id(
        self, schema_id: int, subject: str | None, deleted: bool, page: Page
    ) -> list[dict[str, JSON]]:
        keys = self._keys_for_id(schema_id, subject, deleted)
        return page.of([{"subject": s, "version": v} for s, v in keys])

    def list_schemas(
        self, prefix: str, deleted: bool, latest_only: bool, page: Page
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
        return page.of([schema_entity(v) for v in values])

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
