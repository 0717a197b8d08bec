"""Request bodies and parameters, parsed the way Confluent's Jersey/Jackson stack parses them.

* Malformed JSON and JSON of the wrong shape: 400 with ``error_code`` 400 (rest-utils'
  JsonParseExceptionMapper / JsonMappingExceptionMapper); no body at all: 422.
* Scalars are coerced as Jackson does: ``"schema": 123`` is the string ``"123"``,
  ``"version": "2"`` is 2. Unknown fields are ignored.
* Boolean query parameters are true only for ``true`` in any case (``Boolean.valueOf``);
  integer query and path parameters that do not parse give 404, as JAX-RS specifies. They
  parse as Jersey parses them: ``Integer.valueOf`` of the text as sent (``" 1"`` does not
  parse), a blank query parameter being its default; a version in a path is Confluent's
  ``VersionId``, which trims first (``" 1"`` is version 1).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, TypeVar

from .records import Reference
from .rest_errors import RestError

__all__ = [
    "Page",
    "RegisterRequest",
    "coerce_int",
    "coerce_str",
    "is_valid_subject",
    "parse_body",
    "parse_bool",
    "parse_int_param",
    "parse_path_int",
    "parse_version",
    "require_object",
]

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
# Java's Character.digit takes every decimal digit (Unicode Nd) of the BMP, as \d does.
_INTEGER = re.compile(r"[+-]?\d+")


def _java_trim(text: str) -> str:
    """``String.trim()``: drops every character up to U+0020 at both ends."""
    start, end = 0, len(text)
    while start < end and text[start] <= " ":
        start += 1
    while end > start and text[end - 1] <= " ":
        end -= 1
    return text[start:end]


def _java_int(text: str) -> int | None:
    """``Integer.valueOf(text)`` (no trimming): None when it does not parse or overflows."""
    if not _INTEGER.fullmatch(text) or not all(ord(c) < 0x10000 for c in text):
        return None
    number = int(text)
    return number if _INT_MIN <= number <= _INT_MAX else None


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"Numeric value ({text}) out of range of double")
    return number


def _non_numeric(text: str) -> Any:
    raise ValueError(f"Non-standard token '{text}': not allowed in JSON")


def parse_body(raw: bytes) -> Any:
    """The JSON body; RestError 422 when empty, 400 when not JSON."""
    if not raw.strip():
        raise RestError.missing_body()
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_float=_finite, parse_constant=_non_numeric)
    except UnicodeDecodeError as exc:
        raise RestError.bad_json(f"Invalid UTF-8 in request body at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise RestError.bad_json(
            f"Unexpected character: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise RestError.bad_json("Request body is nested too deeply") from None
    except ValueError as exc:
        raise RestError.bad_json(str(exc)) from None
    if value is None:
        raise RestError.missing_body()
    return value


def require_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RestError.bad_json(f"Cannot deserialize value of type `{what}` from {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "Array value"
    if isinstance(value, dict):
        return "Object value"
    return f"{type(value).__name__} value"


def coerce_str(value: Any, field: str) -> str | None:
    """Jackson's String coercion: scalars become their JSON text, containers are an error."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    raise RestError.bad_json(
        f"Cannot deserialize value of type `java.lang.String` from {_kind(value)} (field '{field}')"
    )


def coerce_int(value: Any, field: str) -> int | None:
    """Jackson's Integer coercion: numbers (floats truncated) and numeric strings."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise RestError.bad_json(f"Cannot coerce boolean to `java.lang.Integer` (field '{field}')")
    if isinstance(value, float):
        value = int(value)  # Jackson's ACCEPT_FLOAT_AS_INT truncates
    elif isinstance(value, str):
        parsed = _java_int(_java_trim(value))  # Jackson trims before parsing
        if parsed is None:
            raise RestError.bad_json(
                f"Cannot deserialize value of type `java.lang.Integer` from String "
                f"\"{value}\" (field '{field}')"
            )
        value = parsed
    if not isinstance(value, int):
        raise RestError.bad_json(
            f"Cannot deserialize value of type `java.lang.Integer` from {_kind(value)} "
            f"(field '{field}')"
        )
    if not _INT_MIN <= value <= _INT_MAX:
        raise RestError.bad_json(f"Numeric value ({value}) out of range of int (field '{field}')")
    return value


@dataclass(frozen=True)
class RegisterRequest:
    """``RegisterSchemaRequest``: the body of register, lookup and compatibility calls."""

    schema: str | None
    schema_type: str
    references: tuple[Reference, ...]
    schema_id: int | None
    version: int | None

    @classmethod
    def parse(cls, body: Any) -> RegisterRequest:
        data = require_object(body, "RegisterSchemaRequest")
        schema = coerce_str(data.get("schema"), "schema")
        schema_type = coerce_str(data.get("schemaType"), "schemaType") or "AVRO"
        raw_refs = data.get("references")
        if raw_refs is None:
            raw_refs = []
        if not isinstance(raw_refs, list):
            raise RestError.bad_json(
                "Cannot deserialize value of type `java.util.ArrayList` (field 'references')"
            )
        refs = []
        for item in raw_refs:
            ref = require_object(item, "SchemaReference")
            name = coerce_str(ref.get("name"), "name")
            subject = coerce_str(ref.get("subject"), "subject")
            version = coerce_int(ref.get("version"), "version")
            if name is None or subject is None or version is None:
                raise RestError.invalid_schema(
                    "Invalid schema: a reference needs name, subject and version"
                )
            refs.append(Reference(name, subject, version))
        return cls(
            schema=schema,
            schema_type=schema_type.upper(),
            references=tuple(refs),
            schema_id=coerce_int(data.get("id"), "id"),
            version=coerce_int(data.get("version"), "version"),
        )


def parse_bool(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"


T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """Confluent's ``offset``/``limit`` paging of a list answer (a negative limit: all)."""

    offset: int = 0
    limit: int = -1

    @classmethod
    def parse(cls, offset: str | None, limit: str | None) -> Page:
        return cls(parse_int_param(offset, 0), parse_int_param(limit, -1))

    def of(self, items: list[T]) -> list[T]:
        start = max(self.offset, 0)
        return items[start:] if self.limit < 0 else items[start : start + self.limit]


def parse_int_param(value: str | None, default: int) -> int:
    """An integer query parameter (Jersey's primitive extractor): the default when absent or
    blank, else ``Integer.valueOf`` of the text as sent; 404 when it does not parse (JAX-RS
    ParamException)."""
    if value is None or not _java_trim(value):
        return default
    return parse_path_int(value)


def parse_path_int(value: str) -> int:
    """An integer path parameter, such as a schema id: ``Integer.valueOf`` of the segment as
    sent, so surrounding spaces do not parse; 404 when it does not parse."""
    number = _java_int(value)
    if number is None:
        raise RestError.http(404, "Not Found")
    return number


def parse_version(text: str) -> int:
    """Confluent's VersionId: the trimmed text is "latest" (any case, returned as -1) or an
    int of 1..2^31-1 or -1; else 42202 (naming the text, or the number when out of range)."""
    trimmed = _java_trim(text)
    if trimmed.lower() == "latest":
        return -1
    number = _java_int(trimmed)
    if number is None:
        raise RestError.invalid_version(text)
    if number < 1 and number != -1:
        raise RestError.invalid_version(str(number))
    return number


def is_valid_subject(subject: str) -> bool:
    """QualifiedSubject.isValidSubject: no ISO control characters, not ``__GLOBAL``, not the
    context wildcard."""
    if not subject or subject == "__GLOBAL" or subject.startswith(":*:"):
        return False
    return not any(unicodedata.category(c) == "Cc" for c in subject)
