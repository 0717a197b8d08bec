"""Field defaults as Python expressions (and the check that a default fits its type)."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import struct
import uuid
from typing import Any

from ..schema import Field, Node, json_integer, matches_default
from .conversions import Conversions, NoDefault, str_literal
from .model import logical

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_EPOCH_NAIVE = dt.datetime(1970, 1, 1)


class Defaults(Conversions):
    """Python expressions for field defaults."""

    def default(
        self, t: Node, value: Any, depth: int = 0, filling: frozenset[int] = frozenset()
    ) -> tuple[str, bool]:
        """(expression, mutable) of the Python value of a JSON default. ``filling``: the
        fields whose schema default is being expanded (a default that contains itself, such
        as ``{}`` for a record whose field defaults to ``{}`` again, has no finite value)."""
        if depth > 64:
            raise NoDefault
        k, lt = t.kind, logical(t)
        if k == "union":
            for b in t.branches:
                if matches_default(b, value):
                    return self.default(b, value, depth + 1, filling)
            raise NoDefault
        if not matches_default(t, value):
            raise NoDefault
        if k == "null":
            return "None", False
        if k == "boolean":
            return repr(bool(value)), False
        if k in ("int", "long"):
            integer = json_integer(value)
            assert integer is not None
            return self.int_default(lt, integer), False
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
            return f"{self.py(t)}.{self.members[id(t)][str(value)]}", False
        if k == "array":
            items = [self.default(t.items, v, depth + 1, filling)[0] for v in value]
            return "[" + ", ".join(items) + "]", True
        if k == "map":
            pairs = [
                f"{str_literal(str(key))}: {self.default(t.values, v, depth + 1, filling)[0]}"
                for key, v in value.items()
            ]
            return "{" + ", ".join(pairs) + "}", True
        assert k == "record"
        args = []
        for f in t.fields:
            inner = filling
            if f.name in value:
                fv = value[f.name]
            elif f.has_default and id(f) not in filling:
                fv, inner = f.default, filling | {id(f)}
            else:
                raise NoDefault
            args.append(f"{self.attr(f)}={self.default(f.node, fv, depth + 1, inner)[0]}")
        return f"{self.py(t)}({', '.join(args)})", True

    def factory(self, f: Field, expr: str) -> str:
        """A typed function making a mutable default (a lambda's list would be inferred
        without the field's type, e.g. ``list[bytes]`` for ``list[bytes | None]``)."""
        branch = f.node
        if branch.kind == "union":
            branch = next(b for b in branch.branches if matches_default(b, f.default))
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
