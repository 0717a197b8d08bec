"""Copy subjects, versions, ids and settings from one Schema Registry to another.

``avrobridge schemas copy`` (``schemas_copy_cli.py``) is the command line; this module reads,
plans and applies, over Confluent's REST API only (``registry_client.RestClient``), so any
Confluent-compatible registry works on either side.

1. **Read** the source: the subjects (soft-deleted ones too) matching the pattern, every
   version of each with its references, the versions those references reach in other subjects,
   and the subjects' own compatibility and mode (plus the global ones when copying all).
2. **Plan** against the target, in dependency order (a subject's earlier versions and every
   referenced version first). With ``keep_ids`` a version is there when the target holds the
   same subject version with the same id and schema; a target id or subject version holding
   something else is a conflict and nothing is written. Without, a version is there when the
   target subject holds the same schema (references rewritten to the target's versions),
   looked up with its soft-deleted versions.
3. **Apply**: register what is missing, in order (``keep_ids``: with its id and version while
   the subject is in IMPORT mode; else with compatibility NONE on the subject, since history
   need not satisfy today's level), then soft-delete what the source has deleted (referrers
   first), then set subject and global settings, configs before modes (a READONLY mode would
   refuse the rest). The temporary mode or level is put back even when a step fails.

Running the same copy again finds everything in place and plans nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import RegistryError
from .registry.records import Reference, SchemaValue
from .registry_client import RestClient

__all__ = ["CopyPlan", "Reference", "Settings", "Version", "apply", "plan_copy", "read_source"]

# Confluent's "not there" error codes, per kind of lookup.
_NO_SUBJECT = (40401,)
_NO_VERSION = (40401, 40402)
_NO_SCHEMA = (40401, 40403)
_NO_CONFIG = (40401, 40408)
_NO_MODE = (40401, 40409)

Key = tuple[str, int]  # (subject, version)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Version(SchemaValue):
    """A subject version as a registry answers it, and whether it is soft-deleted."""

    @property
    def key(self) -> Key:
        return (self.subject, self.version)

    @classmethod
    def parse(cls, answer: Any, deleted: bool, where: str) -> Version:
        try:
            refs = tuple(
                Reference(str(r["name"]), str(r["subject"]), int(r["version"]))
                for r in answer.get("references") or ()
            )
            return cls(
                subject=str(answer["subject"]),
                version=int(answer["version"]),
                schema_id=int(answer["id"]),
                schema=str(answer["schema"]),
                schema_type=str(answer.get("schemaType") or "AVRO"),
                references=refs,
                deleted=deleted,
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            raise RegistryError(f"{where}: unexpected answer {answer!r:.200}") from None


@dataclass(frozen=True)
class Settings:
    """A scope's own compatibility level and mode (None: not set, the global one applies)."""

    compatibility: str | None
    mode: str | None


@dataclass
class Source:
    versions: dict[Key, Version]
    order: list[Key]  # dependencies first
    subjects: list[str]  # the subjects asked for
    referenced_only: list[str]  # subjects copied only for the versions references reach
    settings: dict[str, Settings]
    global_settings: Settings | None  # None: global settings are left alone


def _same_schema(a: Version, b: Version, refs_b: Iterable[Reference] | None = None) -> bool:
    """Same type, references and schema JSON (registries may space the text differently)."""
    if a.schema_type != b.schema_type:
        return False
    if a.references != tuple(b.references if refs_b is None else refs_b):
        return False
    try:
        return bool(json.loads(a.schema) == json.loads(b.schema))
    except ValueError:
        return a.schema == b.schema


# -- reading ---------------------------------------------------------------------------------


def _subject_settings(client: RestClient, subject: str | None) -> Settings:
    if subject is None:
        config = client.call("GET", "config")
        mode = client.call("GET", "mode")
    else:
        config = client.call("GET", "config", subject, absent=_NO_CONFIG)
        mode = client.call("GET", "mode", subject, absent=_NO_MODE)
    level = config.get("compatibilityLevel") if isinstance(config, dict) else None
    name = mode.get("mode") if isinstance(mode, dict) else None
    return Settings(
        compatibility=str(level) if level is not None else None,
        mode=str(name) if name is not None else None,
    )


def _version_numbers(client: RestClient, subject: str, deleted: bool) -> list[int]:
    params = {"deleted": "true"} if deleted else None
    found = client.call("GET", "subjects", subject, "versions", params=params, absent=_NO_SUBJECT)
    return [int(v) for v in found or []]


def _read_version(client: RestClient, subject: str, number: int, live: set[int]) -> Version:
    answer = client.call("GET", "subjects", subject, "versions", number, params={"deleted": "true"})
    return Version.parse(answer, number not in live, f"{subject} version {number}")


def _dependency_order(versions: dict[Key, Version]) -> list[Key]:
    """Keys with each version after its subject's earlier versions and what it references."""
    earlier: dict[Key, Key] = {}
    by_subject: dict[str, list[int]] = {}
    for subject, number in sorted(versions):
        numbers = by_subject.setdefault(subject, [])
        if numbers:
            earlier[(subject, number)] = (subject, numbers[-1])
        numbers.append(number)
    order: list[Key] = []
    done: set[Key] = set()
    for start in sorted(versions):
        # Iterative depth-first walk: a subject may have thousands of versions.
        stack: list[tuple[Key, bool]] = [(start, False)]
        on_path: set[Key] = set()
        while stack:
            key, expanded = stack.pop()
            if key in done:
                continue
            if expanded:
                on_path.discard(key)
                done.add(key)
                order.append(key)
                continue
            if key in on_path:
                raise RegistryError(f"the source's references form a cycle at {key[0]} v{key[1]}")
            on_path.add(key)
            stack.append((key, True))
            deps = [(r.subject, r.version) for r in versions[key].references]
            if key in earlier:
                deps.append(earlier[key])
            stack.extend((dep, False) for dep in reversed(deps) if dep not in done)
    return order


def read_source(client: RestClient, pattern: re.Pattern[str] | None) -> Source:
    """Everything the copy needs from the source. Global settings only without a pattern."""
    names = client.call("GET", "subjects", params={"deleted": "true"}) or []
    subjects = sorted(str(n) for n in names if pattern is None or pattern.fullmatch(str(n)))
    versions: dict[Key, Version] = {}
    live_by_subject: dict[str, set[int]] = {}

    def live(subject: str) -> set[int]:
        if subject not in live_by_subject:
            live_by_subject[subject] = set(_version_numbers(client, subject, deleted=False))
        return live_by_subject[subject]

    for subject in subjects:
        for number in _version_numbers(client, subject, deleted=True):
            versions[(subject, number)] = _read_version(client, subject, number, live(subject))
    # Versions that references reach outside the selection come too (they must exist first).
    pending = [(r.subject, r.version) for v in versions.values() for r in v.references]
    while pending:
        key = pending.pop()
        if key in versions:
            continue
        found = _read_version(client, key[0], key[1], live(key[0]))
        versions[key] = found
        pending.extend((r.subject, r.version) for r in found.references)
    referenced_only = sorted({s for s, _ in versions} - set(subjects))
    return Source(
        versions=versions,
        order=_dependency_order(versions),
        subjects=subjects,
        referenced_only=referenced_only,
        settings={s: _subject_settings(client, s) for s in subjects},
        global_settings=_subject_settings(client, None) if pattern is None else None,
    )


# -- planning --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingChange:
    subject: str | None  # None: global
    kind: str  # "compatibility" or "mode"
    old: str | None
    new: str | None  # None: remove the subject's own setting

    def describe(self) -> str:
        scope = "global" if self.subject is None else f"subject {self.subject}"
        new = self.new if self.new is not None else "(none: the global one applies)"
        return f"set {scope} {self.kind}: {self.old or '(none)'} -> {new}"


@dataclass
class CopyPlan:
    """What the copy does (or did), and where each source id and version ends up."""

    keep_ids: bool
    source: Source
    register: list[Version] = field(default_factory=list)
    delete: list[Version] = field(default_factory=list)  # referrers first
    settings: list[SettingChange] = field(default_factory=list)
    #: source id -> target id; None until the target allocates it (dry run)
    ids: dict[int, int | None] = field(default_factory=dict)
    #: (subject, source version) -> target version; None until registered (dry run)
    versions: dict[Key, int | None] = field(default_factory=dict)
    present: int = 0  # versions the target already holds as the source does
    conflicts: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.register or self.delete or self.settings)

    def target_references(self, version: Version) -> tuple[Reference, ...] | None:
        """The references with the target's version numbers; None while one is unknown."""
        refs = []
        for ref in version.references:
            number = self.versions.get((ref.subject, ref.version))
            if number is None:
                return None
            refs.append(Reference(ref.name, ref.subject, number))
        return tuple(refs)


class _Target:
    """The target's answers during planning, each asked once."""

    def __init__(self, client: RestClient) -> None:
        self.client = client
        self._live: dict[str, set[int]] = {}
        self._by_id: dict[int, Version | None] = {}

    def live(self, subject: str) -> set[int]:
        if subject not in self._live:
            self._live[subject] = set(_version_numbers(self.client, subject, deleted=False))
        return self._live[subject]

    def version(self, subject: str, number: int) -> Version | None:
        answer = self.client.call(
            "GET",
            "subjects",
            subject,
            "versions",
            number,
            params={"deleted": "true"},
            absent=_NO_VERSION,
        )
        if answer is None:
            return None
        return Version.parse(answer, number not in self.live(subject), f"{subject} v{number}")

    def by_id(self, schema_id: int) -> Version | None:
        """The schema the target holds under an id (subject and version left empty)."""
        if schema_id not in self._by_id:
            answer = self.client.call("GET", "schemas", "ids", schema_id, absent=_NO_SCHEMA)
            self._by_id[schema_id] = (
                None
                if answer is None
                else Version.parse(
                    {"subject": "", "version": 0, "id": schema_id, **answer},
                    False,
                    f"id {schema_id}",
                )
            )
        return self._by_id[schema_id]

    def lookup(self, version: Version, refs: tuple[Reference, ...]) -> Version | None:
        """The target subject's version holding this schema, soft-deleted ones included."""
        answer = self.client.call(
            "POST",
            "subjects",
            version.subject,
            params={"deleted": "true"},
            body=_body(version, refs),
            absent=_NO_SCHEMA,
        )
        if answer is None:
            return None
        number = int(answer.get("version", 0)) if isinstance(answer, dict) else 0
        return Version.parse(
            answer, number not in self.live(version.subject), f"lookup in {version.subject}"
        )


def _body(version: Version, refs: tuple[Reference, ...]) -> dict[str, Any]:
    body: dict[str, Any] = {"schema": version.schema}
    if version.schema_type != "AVRO":
        body["schemaType"] = version.schema_type
    if refs:
        body["references"] = [r.to_json() for r in refs]
    return body


def _plan_version(plan: CopyPlan, version: Version, there: Version | None) -> None:
    """Registered unless the target has it live (or both have it soft-deleted); soft-deleted
    after, when the source has it so and the target does not."""
    if there is None or (there.deleted and not version.deleted):
        plan.register.append(version)
    else:
        plan.present += 1
    if version.deleted and (there is None or not there.deleted):
        plan.delete.insert(0, version)


def _plan_kept(plan: CopyPlan, target: _Target, version: Version) -> None:
    plan.ids[version.schema_id] = version.schema_id
    plan.versions[version.key] = version.version
    there = target.version(version.subject, version.version)
    where = f"{version.subject} version {version.version}"
    if there is not None and not (
        there.schema_id == version.schema_id and _same_schema(there, version)
    ):
        plan.conflicts.append(
            f"the target's {where} holds id {there.schema_id}, not the source's id "
            f"{version.schema_id} with the same schema; importing would overwrite it"
        )
        return
    if there is None:
        holder = target.by_id(version.schema_id)
        if holder is not None and not _same_schema(holder, version):
            plan.conflicts.append(
                f"the target already holds id {version.schema_id} for a different schema, so "
                f"the source's {where} cannot keep its id"
            )
            return
    _plan_version(plan, version, there)


def _plan_mapped(plan: CopyPlan, target: _Target, version: Version) -> None:
    refs = plan.target_references(version)
    there = target.lookup(version, refs) if refs is not None else None
    if there is not None:
        plan.ids[version.schema_id] = there.schema_id
        plan.versions[version.key] = there.version
    else:
        plan.ids.setdefault(version.schema_id, None)
        plan.versions[version.key] = None
    _plan_version(plan, version, there)


def _plan_settings(plan: CopyPlan, client: RestClient) -> None:
    wanted: list[tuple[str | None, Settings]] = list(plan.source.settings.items())
    if plan.source.global_settings is not None:
        wanted.append((None, plan.source.global_settings))
    changes: list[SettingChange] = []
    for subject, source in wanted:
        have = _subject_settings(client, subject)
        if source.compatibility != have.compatibility:
            changes.append(
                SettingChange(subject, "compatibility", have.compatibility, source.compatibility)
            )
        if source.mode != have.mode:
            changes.append(SettingChange(subject, "mode", have.mode, source.mode))
    # Levels before modes, subjects before the global mode: a READONLY mode refuses the rest.
    plan.settings = sorted(
        changes, key=lambda c: (c.kind == "mode", c.subject is None and c.kind == "mode")
    )


def plan_copy(source: Source, target: RestClient, keep_ids: bool) -> CopyPlan:
    """What copying ``source`` to ``target`` would do; reads the target only."""
    plan = CopyPlan(keep_ids=keep_ids, source=source)
    view = _Target(target)
    for key in source.order:
        version = source.versions[key]
        if keep_ids:
            _plan_kept(plan, view, version)
        else:
            _plan_mapped(plan, view, version)
    if not plan.conflicts:
        _plan_settings(plan, target)
    return plan


# -- applying --------------------------------------------------------------------------------


def _set_setting(client: RestClient, change: SettingChange) -> None:
    """Sets one setting to ``change.new``, reading it again first (a soft delete of a subject's
    last version drops its settings, so the plan's ``old`` may be stale)."""
    path = ("config",) if change.kind == "compatibility" else ("mode",)
    scope = path if change.subject is None else (*path, change.subject)
    current = _subject_settings(client, change.subject)
    have = current.compatibility if change.kind == "compatibility" else current.mode
    if have == change.new:
        return
    if change.new is None:
        client.call("DELETE", *scope, absent=_NO_CONFIG + _NO_MODE)
    elif change.kind == "compatibility":
        client.call("PUT", *scope, body={"compatibility": change.new})
    else:
        client.call("PUT", *scope, params={"force": "true"}, body={"mode": change.new})


def _register_all(plan: CopyPlan, client: RestClient) -> None:
    for version in plan.register:
        refs = plan.target_references(version)
        if refs is None:  # cannot happen: the order puts references first
            raise RegistryError(f"{version.subject} v{version.version}: a reference was not copied")
        body = _body(version, refs)
        if plan.keep_ids:
            body.update(id=version.schema_id, version=version.version)
        answer = client.call("POST", "subjects", version.subject, "versions", body=body)
        new_id = int(answer["id"])
        plan.ids[version.schema_id] = new_id
        if not plan.keep_ids:
            # Confluent answers only the id; the version comes from a lookup.
            found = client.call("POST", "subjects", version.subject, body=_body(version, refs))
            plan.versions[version.key] = int(found["version"])


def _put_back(
    client: RestClient, originals: dict[str, Settings], kind: str, temporary: str
) -> list[str]:
    """Restores the subjects' settings changed for the registrations; the failures."""
    problems = []
    for subject, original in originals.items():
        value = original.mode if kind == "mode" else original.compatibility
        try:
            _set_setting(client, SettingChange(subject, kind, temporary, value))
        except RegistryError as exc:
            problems.append(f"{subject}: {exc}")
    return problems


def apply(plan: CopyPlan, target: RestClient) -> None:
    """Carries the plan out (see the module's docstring for the order)."""
    if plan.conflicts:
        raise RegistryError("; ".join(plan.conflicts))
    subjects = sorted({v.subject for v in plan.register})
    kind = "mode" if plan.keep_ids else "compatibility"
    temporary = "IMPORT" if plan.keep_ids else "NONE"
    originals = {s: _subject_settings(target, s) for s in subjects}
    registered = False
    try:
        for subject in subjects:
            _set_setting(target, SettingChange(subject, kind, None, temporary))
        _register_all(plan, target)
        registered = True
    finally:
        problems = _put_back(target, originals, kind, temporary)
        if problems:
            message = f"could not put the target's subject {kind} back: " + "; ".join(problems)
            if registered:
                raise RegistryError(message)
            log.error("%s", message)  # the failure on its way up says more
    for version in plan.delete:
        number = plan.versions[version.key]
        target.call("DELETE", "subjects", version.subject, "versions", str(number))
    for change in plan.settings:
        _set_setting(target, change)
