"""Field defaults as Python expressions (and the check that a default fits its type)."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import struct
import uuid
from typing import Any

from .._avro_rules import latin1
from .conversions import Conversions, NoDefault, str_literal
from .model import AvroType, Field

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_EPOCH_NAIVE = dt.datetime(1970, 1, 1)


class Defaults(Conversions):
    """Python expressions for field defaults."""

    def default(
        self, t: AvroType, value: Any, depth: int = 0, filling: frozenset[int] = frozenset()
    ) -> tuple[str, bool]:
        """(expression, mutable) of the Python value of a JSON default. ``filling``: the
        fields whose schema default is being expanded (a default that contains itself, such
        as ``{}`` for a record whose field defaults to ``{}`` again, has no finite value)."""
        if depth > 64:
            raise NoDefault
        k, lt = t.kind, t.logical
        is_int = isinstance(value, int) and not isinstance(value, bool)
        if k == "union":
            for b in t.branches:
                if _json_matches(b, value):
                    return self.default(b, value, depth + 1, filling)
            raise NoDefault
        if not _json_matches(t, value):
            raise NoDefault
        if k == "null":
            return "None", False
        if k == "boolean":
            return repr(bool(value)), False
        if k in ("int", "long"):
            assert is_int
            return self.int_default(lt, int(value)), False
        if k in ("float", "double"):
            number = float(value)
            if k == "float":
                number = struct.unpack("<f", struct.pack("<f", number))[0]
            if math.isnan(number) or math.isinf(number):
                return f'float("{number}")', False
            return repr(number), False
        if k in ("bytes", "fixed"):
            raw = str(value).encode("latin-1")
            if lt == "decimal":
                unscaled = int.from_bytes(raw, "big", signed=True)
                digits = tuple(int(c) for c in str(abs(unscaled)))
                amount = decimal.Decimal((1 if unscaled < 0 else 0, digits, -t.scale))
                return f"{self.use('_decimal', '_decimal')}.Decimal({str(amount)!r})", False
            return repr(raw), False
        if k == "string":
            if lt == "uuid":
                try:
                    text = str(uuid.UUID(str(value)))
                except ValueError:
                    raise NoDefault from None
                return f"{self.use('_uuid', '_uuid')}.UUID({text!r})", False
            return str_literal(str(value)), False
        if k == "enum":
            return f"{t.py_name}.{t.members[str(value)]}", False
        if k == "array":
            assert t.items is not None
            items = [self.default(t.items, v, depth + 1, filling)[0] for v in value]
            return "[" + ", ".join(items) + "]", True
        if k == "map":
            assert t.values is not None
            pairs = [
                f"{str_literal(str(key))}: {self.default(t.values, v, depth + 1, filling)[0]}"
                for key, v in value.items()
            ]
            return "{" + ", ".join(pairs) + "}", True
        assert t.is_record
        args = []
        for f in t.fields:
            inner = filling
            if f.name in value:
                fv = value[f.name]
            elif f.has_default and id(f) not in filling:
                fv, inner = f.json["default"], filling | {id(f)}
            else:
                raise NoDefault
            args.append(f"{f.py_name}={self.default(f.type, fv, depth + 1, inner)[0]}")
        return f"{t.py_name}({', '.join(args)})", True

    def factory(self, f: Field, expr: str) -> str:
        """A typed function making a mutable default (a lambda's list would be inferred
        without the field's type, e.g. ``list[bytes]`` for ``list[bytes | None]``)."""
        branch = f.type
        if branch.kind == "union":
            branch = next(b for b in branch.branches if _json_matches(b, f.json["default"]))
        name = f"_avro_default_{len(self.factories)}"
        self.factories.append(f"def {name}() -> {self.ann(branch)}:\n    return {expr}")
        return name

    def int_default(self, lt: str | None, value: int) -> str:
        try:
            if lt == "date":
                d = dt.date.fromordinal(value + _EPOCH_ORDINAL)
                return f"{self.use('_dt', '_dt')}.date({d.year}, {d.month}, {d.day})"
            if lt in ("time-millis", "time-micros"):
                micros = value * 1000 if lt == "time-millis" else value
                secs, us = divmod(micros, 10**6)
                tm = dt.time(secs // 3600, secs // 60 % 60, secs % 60, us)
                args = f"{tm.hour}, {tm.minute}, {tm.second}, {tm.microsecond}"
                return f"{self.use('_dt', '_dt')}.time({args})"
            if lt is not None:
                micros = value * 1000 if lt.endswith("millis") else value
                base = _EPOCH_NAIVE if lt.startswith("local") else _EPOCH
                d = base + dt.timedelta(microseconds=micros)
                args = (
                    f"{d.year}, {d.month}, {d.day}, {d.hour}, {d.minute}, {d.second}, "
                    f"{d.microsecond}"
                )
                tz = "" if lt.startswith("local") else ", tzinfo=_dt.timezone.utc"
                return f"{self.use('_dt', '_dt')}.datetime({args}{tz})"
        except (ValueError, OverflowError):
            raise NoDefault from None
        return repr(value)

    # Schema text ----------------------------------------------------------------------


def _json_matches(t: AvroType, value: Any, depth: int = 0) -> bool:
    """Whether a JSON default fits ``t`` (the codec's rule; unions: any branch)."""
    if depth > 128:
        return False
    k = t.kind
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if k == "null":
        return value is None
    if k == "boolean":
        return isinstance(value, bool)
    if k == "int":
        return is_int and _INT_MIN <= value <= _INT_MAX
    if k == "long":
        return is_int and _LONG_MIN <= value <= _LONG_MAX
    if k in ("float", "double"):
        return is_int or isinstance(value, float)
    if k == "bytes":
        return latin1(value) is not None
    if k == "string":
        return isinstance(value, str)
    if k == "fixed":
        raw = latin1(value)
        return raw is not None and len(raw) == t.size
    if k == "enum":
        return isinstance(value, str) and value in t.symbols
    if k == "array":
        assert t.items is not None
        items = t.items
        return isinstance(value, list) and all(_json_matches(items, v, depth + 1) for v in value)
    if k == "map":
        assert t.values is not None
        vals = t.values
        return isinstance(value, dict) and all(
            _json_matches(vals, v, depth + 1) for v in value.values()
        )
    if k in ("record", "error"):
        if not isinstance(value, dict):
            return False
        for f in t.fields:
            if f.name in value:
                if not _json_matches(f.type, value[f.name], depth + 1):
                    return False
            elif not f.has_default:
                return False
        return True
    if k == "union":
        return any(_json_matches(b, value, depth + 1) for b in t.branches)
    return False
