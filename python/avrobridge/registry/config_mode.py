"""The compatibility level and the mode, global or per subject: read, set, delete (setting
IMPORT mode without force clears the scope's soft-deleted versions first, as Confluent)."""

from __future__ import annotations

from ..compat import CompatibilityLevel
from .records import RecordKey
from .requests import coerce_str, is_valid_subject, require_object
from .rest_errors import RestError
from .service_core import JSON, Records, ServiceCore
from .state import MODES

__all__ = ["ConfigAndMode"]


class ConfigAndMode(ServiceCore):
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
            records: Records = []
            with self._state_lock:
                state = self.state
                if mode == "IMPORT" and state.mode_in_scope(subject) != "IMPORT" and not force:
                    records += self._clear_for_import(subject)
            records.append((RecordKey.mode(subject), {"mode": mode}))
            self._write(records, "mode")
        return {"mode": text}

    def _clear_for_import(self, subject: str | None) -> Records:
        """Confluent's setMode to IMPORT without force (state lock held): the scope must have
        no live subject; its soft-deleted versions are hard-deleted (42206 while a live
        schema references one), then CLEAR_SUBJECT drops them from the caches."""
        state = self.state
        names = state.subject_names(deleted=True) if subject is None else [subject]
        if any(state.has_subject(name) for name in names):
            raise RestError.operation_not_permitted("Cannot import since found existing subjects")
        records: Records = []
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
