"""The fastavro backend's ``Schema`` class (the twin of ``PySchema`` in ``rust/src/py/mod.rs``),
and the recursion headroom its deep schemas need."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final, NoReturn

import fastavro

from .. import schema as _s
from . import codec, fastread, fastwrite, wirecheck

#: Items that take no bytes (null, empty records, fixed of size 0) one call may read in total
#: unless ``max_zero_byte_items`` says otherwise (``rust/src/wire.rs``).
DEFAULT_MAX_ZERO_BYTE_ITEMS: Final = wirecheck.DEFAULT_MAX_ZERO_BYTE_ITEMS


class Schema:
    """A parsed, validated Avro schema, compiled for encoding and decoding."""

    __slots__ = (
        "_parsed",
        "_read_schema",
        "_references",
        "_strict",
        "_strict_writer",
        "_text",
        "_write_schema",
    )
    _text: str
    _references: list[str]
    _parsed: _s.ParsedSchema
    # fastavro's parsed schemas, built on first use.
    _write_schema: Any
    _read_schema: Any
    # fastavro first (fastread.StrictReader, fastwrite.StrictWriter), None when the data
    # must be walked first, False until first use.
    _strict: Any
    _strict_writer: Any

    def __init__(
        self, schema: Any, *, references: Any = None, validate_defaults: bool = True
    ) -> None:
        require(validate_defaults, bool, "bool")
        if references is not None:
            reference_texts = [_schema_text(r) for r in references]
        elif isinstance(schema, Schema):
            reference_texts = list(schema._references)
        else:
            reference_texts = []
        text = _schema_text(schema)
        parsed = _s.parse_schema_text(text, validate_defaults, reference_texts)
        object.__setattr__(self, "_text", text)
        object.__setattr__(self, "_references", reference_texts)
        object.__setattr__(self, "_parsed", parsed)
        object.__setattr__(self, "_write_schema", None)
        object.__setattr__(self, "_read_schema", None)
        object.__setattr__(self, "_strict", False)
        object.__setattr__(self, "_strict_writer", False)

    def __init_subclass__(cls, **kwargs: Any) -> NoReturn:
        raise TypeError("type 'avrobridge._fallback.Schema' is not an acceptable base type")

    def __delattr__(self, name: str) -> None:
        self.__setattr__(name, None)

    def __getattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"'avrobridge._fallback.Schema' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("canonical_form", "name", "references", "text", "type"):
            raise AttributeError(
                f"attribute '{name}' of 'avrobridge._fallback.Schema' objects is not writable"
            )
        raise AttributeError(f"'avrobridge._fallback.Schema' object has no attribute '{name}'")

    @property
    def references(self) -> list[str]:
        """The texts of the referenced schemas this schema was parsed with."""
        return list(self._references)

    @property
    def canonical_form(self) -> str:
        """Parsing Canonical Form, as the Avro specification defines it."""
        return self._parsed.canonical

    @property
    def text(self) -> str:
        """The schema JSON text this object was built from."""
        return self._text

    @property
    def name(self) -> str | None:
        """The full name of the top-level type when it is named, else None."""
        root = self._parsed.root
        return root.name.fullname if root.name is not None else None

    @property
    def type(self) -> str:
        """The top-level type: "record", "enum", "union", "int", ..."""
        return self._parsed.root.kind

    def fingerprint(self, algorithm: str = "CRC-64-AVRO") -> bytes:
        """The digest of the canonical form: "CRC-64-AVRO" (8 bytes, little-endian), "MD5" or
        "SHA-256"."""
        require(algorithm, str, "str")
        return _s.fingerprint(self._parsed.canonical, algorithm)

    def to_json(self) -> Any:
        return json.loads(self._text)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        shown = self._text[:80]
        if len(shown) < len(self._text):
            shown += "…"
        return f"Schema({shown!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schema):
            return False
        if other._text == self._text:
            return True
        if other._parsed.canonical != self._parsed.canonical:
            return False
        # Same wire shape; equal only if the JSON documents are equal too.
        try:
            a = _s.load_json(self._text)
            b = _s.load_json(other._text)
        except Exception:
            return False
        return _s.json_equal(a, b)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        digest = _s.fingerprint(self._parsed.canonical, "CRC-64-AVRO")
        # The Rust fold reads the little-endian digest as a big-endian u64; CPython takes it
        # as a C ssize_t, where -1 means "error" and becomes -2.
        value = int.from_bytes(digest, "big")
        if value >= 1 << 63:
            value -= 1 << 64
        return -2 if value == -1 else value

    def __reduce__(self) -> tuple[Any, tuple[str, list[str]]]:
        return (_schema_from_parts, (self._text, list(self._references)))

    # --- the codec -------------------------------------------------------------------------

    def _encode(self, datum: Any, fast: bool = True) -> bytes:
        """fastavro first (unless ``fast`` is False: it already failed), else the walk."""
        strict = strict_writer(self) if fast else None
        if strict is not None:
            try:
                return strict.write(datum)
            except Exception:
                pass  # walked below, for the exact error (or defaults to fill in)
        prepared = self._prepare(datum)
        write_schema = self._write_schema
        if write_schema is None:
            write_schema = fastavro.parse_schema(
                _s.fastavro_schema(self._parsed.root, logical=False)
            )
            object.__setattr__(self, "_write_schema", write_schema)
        return codec.write(write_schema, prepared)

    def _prepare(self, datum: Any) -> Any:
        if self._parsed.recursive:
            with deep_recursion():
                return codec.prepare(self._parsed.root, datum, 0)
        return codec.prepare(self._parsed.root, datum, 0)

    def _decode(self, data: bytes, budget: wirecheck.ItemBudget, fast: bool = True) -> Any:
        """fastavro first (unless ``fast`` is False: it already failed), else the walk."""
        strict = strict_reader(self) if fast else None
        if strict is not None:
            try:
                return strict.read(data)
            except Exception:
                pass  # walked below for the exact error (or the value, if the walk passes)
        if self._parsed.recursive:
            with deep_recursion():
                wirecheck.check(self._parsed.root, data, budget)
        else:
            wirecheck.check(self._parsed.root, data, budget)
        return self._read(data)

    def _read(self, data: bytes) -> Any:
        """Reads a datum that has passed ``wirecheck``."""
        read_schema = self._read_schema
        if read_schema is None:
            read_schema = fastavro.parse_schema(_s.fastavro_schema(self._parsed.root, logical=True))
            object.__setattr__(self, "_read_schema", read_schema)
        return codec.read(read_schema, data)


def strict_reader(schema: Schema) -> fastread.StrictReader | None:
    """The schema's fastavro-first reader, None when its data must be walked first."""
    return _built(schema, "_strict", fastread.strict_reader)  # type: ignore[no-any-return]


def strict_writer(schema: Schema) -> fastwrite.StrictWriter | None:
    """The schema's fastavro-first writer, None when its data must be walked first."""
    return _built(schema, "_strict_writer", fastwrite.strict_writer)  # type: ignore[no-any-return]


def _built(schema: Schema, slot: str, build: Any) -> Any:
    """A slot built from the parsed schema on first use (False until then)."""
    value = object.__getattribute__(schema, slot)
    if value is False:
        value = build(schema._parsed)
        object.__setattr__(schema, slot, value)
    return value


# Pickles and reprs name the package, as the native class names ``avrobridge._native``.
Schema.__module__ = "avrobridge._fallback"


def _schema_text(schema: Any) -> str:
    """Schema JSON given as text, bytes, a parsed JSON object or a Schema -> text."""
    if isinstance(schema, Schema):
        return schema._text
    if isinstance(schema, str):
        text = str.__str__(schema)
        text.encode("utf-8")  # lone surrogates: UnicodeEncodeError, as pyo3's to_str
        return text
    if isinstance(schema, bytes):
        try:
            return bytes(schema).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("schema bytes are not UTF-8") from None
    try:
        return json.dumps(schema, separators=(",", ":"))
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    raise TypeError(f"schema must be JSON text or a JSON-like object: {problem}")


def _schema_from_parts(text: str, references: Any) -> Schema:
    """Unpickling helper: ``Schema(text, references=references)``."""
    require(text, str, "str")
    if isinstance(references, str):
        raise TypeError("Can't extract `str` to `Vec`")
    return Schema(text, references=[_checked_str(r) for r in references])


def _checked_str(value: Any) -> str:
    require(value, str, "str")
    return str(value)


def require(value: object, cls: type, name: str) -> None:
    """pyo3's argument check, with its message."""
    if not isinstance(value, cls):
        shown = "'None'" if value is None else f"'{type(value).__name__}' object"
        raise TypeError(f"{shown} is not an instance of '{name}'")


# Data of a recursive schema may nest MAX_DEPTH (512) levels, and choosing a union branch
# validates a subtree up to another 512 levels: about 1100 Python frames, more than the
# default limit of 1000. Python frames do not use the C stack (3.11+), so the limit is raised
# while such a schema is in use, once for all threads, and restored by the last one out.
_DEEP_LIMIT: Final = 4000
_deep_lock = threading.Lock()
_deep_users = 0
_saved_limit = 0


@contextmanager
def deep_recursion() -> Iterator[None]:
    global _deep_users, _saved_limit
    with _deep_lock:
        if _deep_users == 0:
            _saved_limit = sys.getrecursionlimit()
            if _saved_limit < _DEEP_LIMIT:
                sys.setrecursionlimit(_DEEP_LIMIT)
        _deep_users += 1
    try:
        yield
    finally:
        with _deep_lock:
            _deep_users -= 1
            if _deep_users == 0 and sys.getrecursionlimit() == _DEEP_LIMIT:
                sys.setrecursionlimit(_saved_limit)


def as_schema(obj: Any) -> Schema:
    return obj if isinstance(obj, Schema) else Schema(obj)
