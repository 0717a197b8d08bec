"""Deleting subject versions and subjects, soft (marked deleted) or permanent (tombstoned),
with Confluent's rules: a referenced version stays, a permanent delete needs a soft one
first, and a subject that loses its last live version loses its mode and compatibility."""

from __future__ import annotations

from .records import RecordKey, SchemaValue, schema_value_json
from .requests import parse_version
from .rest_errors import RestError
from .service_core import Records, ServiceCore

__all__ = ["Deletion"]


class Deletion(ServiceCore):
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
                records: Records
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

    def _forget_settings(self, subject: str) -> Records:
        """Tombstones for the subject's mode and compatibility, as Confluent writes when a
        subject loses its last live version."""
        records: Records = []
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
                records: Records
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
