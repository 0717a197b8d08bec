"""`avrobridge plan` (and `run --dry-run`) for a backfill: the files it would read, each
file's writer schema (its header's) as the target would read it, and where the records go.
Nothing is produced, registered or recorded."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import AvroBridgeError
from ..ocf import ContainerReader
from .config import BridgeSettings
from .convert import Converter
from .files_source import expand
from .schemas import SchemaSource


@dataclass
class FilePlan:
    path: str
    size: int
    codec: str
    writer: str
    readable: bool
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class BackfillPlan:
    sink_topic: str
    sink_subject: str
    progress_topic: str
    files: list[FilePlan]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def lines(self) -> list[str]:
        out = [f"backfill of {len(self.files)} files to {self.sink_topic}"]
        out.append(f"  sink subject {self.sink_subject}; progress in {self.progress_topic}")
        for f in self.files:
            verdict = "readable" if f.readable else "NOT readable by the target"
            out.append(f"  {f.path} ({f.size:,} bytes, {f.codec}): {f.writer}, {verdict}")
            out.extend(f"    {kind} {where}: {message}" for kind, where, message in f.changes)
            out.extend(f"    warning: {w}" for w in f.warnings)
            out.extend(f"    problem: {p}" for p in f.problems)
        out.extend(f"would fail: {p}" for p in self.problems)
        return out


def build_backfill_plan(settings: BridgeSettings, schemas: SchemaSource) -> BackfillPlan:
    converter = Converter(settings, schemas)
    sink = converter.sink_topic(settings.source.files[0])
    problems: list[str] = []
    files: list[FilePlan] = []
    try:
        paths = expand(settings.source.files)
    except AvroBridgeError as exc:
        paths, problems = [], [str(exc)]
    for path in paths:
        size = os.path.getsize(path)
        try:
            with ContainerReader(path) as reader:
                writer, codec = reader.schema, reader.codec
        except (AvroBridgeError, OSError) as exc:
            files.append(FilePlan(path, size, "?", "?", False, problems=[str(exc)]))
            problems.append(f"{path}: {exc}")
            continue
        plan = converter.plan_for_writer(converter.value, writer, f"writer schema of {path}")
        name = writer.name or writer.type
        if isinstance(plan, BaseException):
            files.append(FilePlan(path, size, codec, name, False, problems=[str(plan)]))
            if settings.errors.tolerance == "none":
                problems.append(f"{path}: the target cannot read its writer schema")
            continue
        files.append(FilePlan(path, size, codec, name, True, plan.changes, plan.warnings))
    subject = converter.subject_for(converter.value, sink)
    return BackfillPlan(sink, subject, settings.files.progress_topic, files, problems)
