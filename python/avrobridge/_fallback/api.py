"""The public surface of the fastavro backend: the ``Schema`` class and the four codec
functions, with the behaviour of ``rust/src/py/mod.rs`` (argument handling, batch error
contract, exception mapping of ``rust/src/py/errors.rs``)."""

from __future__ import annotations

import json
import operator
import sys
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Final, NoReturn, TypeVar

import fastavro

from .. import framing
from ..errors import DecodeError, EncodeError, FramingError, SchemaResolutionError
from . import codec, compat, resolve, transcode, wirecheck
from . import schema as _s

__all__ = [
    "DEFAULT_MAX_ZERO_BYTE_ITEMS",
    "Schema",
    "Transcoder",
    "decode",
    "decode_many",
    "encode",
    "encode_many",
    "reader_writer_incompatibilities",
]

#: Items that take no bytes (null, empty records, fixed of size 0) one call may read in total
#: unless ``max_zero_byte_items`` says otherwise (``rust/src/wire.rs``).
DEFAULT_MAX_ZERO_BYTE_ITEMS: Final = wirecheck.DEFAULT_MAX_ZERO_BYTE_ITEMS


class Schema:
    """A parsed, validated Avro schema, compiled for encoding and decoding."""

    __slots__ = ("_parsed", "_read_schema", "_references", "_text", "_write_schema")
    _text: str
    _references: list[str]
    _parsed: _s.ParsedSchema
    # fastavro's parsed schemas, built on first use.
    _write_schema: Any
    _read_schema: Any

    def __init__(
        self, schema: Any, *, references: Any = None, validate_defaults: bool = True
    ) -> None:
        _require(validate_defaults, bool, "bool")
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
        _require(algorithm, str, "str")
        return _s.fingerprint(self._parsed.canonical, algorithm)

    def to_json(self) -> Any:
        return json.loads(self._text)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        shown = self._text[:80]
        if len(shown) < len(self._text):
            shown += "…"
        return f"Schema({_rust_debug_str(shown)})"

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

    def _encode(self, datum: Any) -> bytes:
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

    def _decode(self, data: bytes, budget: wirecheck.ItemBudget) -> Any:
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
    _require(text, str, "str")
    if isinstance(references, str):
        raise TypeError("Can't extract `str` to `Vec`")
    return Schema(text, references=[_checked_str(r) for r in references])


def _checked_str(value: Any) -> str:
    _require(value, str, "str")
    return str(value)


def _require(value: object, cls: type, name: str) -> None:
    """pyo3's argument check, with its message."""
    if not isinstance(value, cls):
        shown = "'None'" if value is None else f"'{type(value).__name__}' object"
        raise TypeError(f"{shown} is not an instance of '{name}'")


# --- recursion headroom ---------------------------------------------------------------------

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


# --- repr ---------------------------------------------------------------------------------

_GRAPHEME_EXTEND_EXTRA: Final = frozenset({0x200C, 0xFF9E, 0xFF9F})
_UNPRINTABLE: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})


def _rust_debug_str(s: str) -> str:
    """``format!("{:?}", s)``: Rust's quoting of a str (an approximation of its Unicode
    printable and grapheme-extend tables by Python's ``unicodedata``)."""
    out = ['"']
    for c in s:
        if c == "\0":
            out.append("\\0")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif c == "\n":
            out.append("\\n")
        elif c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c == " " or (c.isascii() and c.isprintable()):
            out.append(c)
        else:
            cat = unicodedata.category(c)
            if cat in ("Mn", "Me") or ord(c) in _GRAPHEME_EXTEND_EXTRA or cat in _UNPRINTABLE:
                out.append(f"\\u{{{ord(c):x}}}")
            else:
                out.append(c)
    out.append('"')
    return "".join(out)


# --- the functions ------------------------------------------------------------------------


def _as_schema(obj: Any) -> Schema:
    return obj if isinstance(obj, Schema) else Schema(obj)


def encode_error(exc: Exception, index: int | None) -> EncodeError:
    """The EncodeError Rust raises for a failure (``__cause__`` set for Python ones)."""
    if isinstance(exc, codec.EncodeFailure):
        path = exc.path()
        message = (
            f"cannot encode {path}: {exc.message}" if path else f"cannot encode: {exc.message}"
        )
        return EncodeError(message, None, path or None, index)
    if isinstance(exc, EncodeError):
        # Raised by user code (an __index__, a mapping): passed through as it is.
        return exc
    error = EncodeError(f"cannot encode: {exc}", None, None, index)
    error.__cause__ = exc  # also sets __suppress_context__, as pyo3's set_cause
    return error


def decode_error(exc: Exception, index: int | None) -> DecodeError:
    """The DecodeError Rust raises for a failure: ours at their offset, Python ones at 0."""
    if isinstance(exc, wirecheck.WireError):
        path = exc.path()
        where = f"{path} " if path else ""
        message = f"cannot decode {where}at byte {exc.offset}: {exc.message}"
        return DecodeError(message, exc.offset, path or None, index)
    cause = exc.cause if isinstance(exc, wirecheck.PythonFailure) else exc
    error = DecodeError(f"cannot decode at byte 0: {cause}", 0, None, index)
    error.__cause__ = cause
    return error


def encode(schema: Any, datum: Any) -> bytes:
    """Encodes one datum."""
    s = _as_schema(schema)
    try:
        return s._encode(datum)
    except Exception as exc:
        error = encode_error(exc, None)
    # Raised outside the except block: no __context__, like exceptions raised from Rust.
    raise error


def _optional_schema(reader: Any) -> Schema | None:
    return None if reader is None else _as_schema(reader)


class _DecodeBudget:
    """What a decoding call may still read of zero-byte items: resolving (bytes to bytes)
    and building values each have the whole budget (Rust's ``DecodeBudget``)."""

    __slots__ = ("build", "resolve")

    def __init__(self, limit: Any) -> None:
        limit = _usize(limit)
        self.resolve = wirecheck.ItemBudget(limit)
        self.build = wirecheck.ItemBudget(limit)


def _decode_one(
    writer: Schema, reader: Schema | None, data: bytes, index: int | None, budget: _DecodeBudget
) -> Any:
    """Decodes one datum of ``writer``, resolved to ``reader`` when given (the Rust
    ``decode_one``: transcode with the cached plan, then decode with the reader)."""
    if reader is None:
        try:
            return writer._decode(data, budget.build)
        except Exception as exc:
            error: Exception = decode_error(exc, index)
        raise error
    try:
        plan = _cached_plan(writer, reader)
    except SchemaResolutionError as exc:
        resolution_error = exc
    else:
        try:
            resolved = _transcode(writer, reader, plan, data, budget.resolve)
        except Exception as exc:
            error = decode_error(exc, index)
        else:
            return _decode_one(reader, None, resolved, index, budget)
        raise error
    # A new exception for every use, as Rust converts its error anew each time.
    raise SchemaResolutionError(resolution_error.message, resolution_error.messages)


def decode(
    schema: Any,
    data: bytes,
    reader: Any = None,
    *,
    max_zero_byte_items: Any = wirecheck.DEFAULT_MAX_ZERO_BYTE_ITEMS,
) -> Any:
    """Decodes one datum; the whole input must be consumed. With ``reader``, the data is
    resolved from the writer schema ``schema`` to the reader schema (Avro schema
    resolution). At most ``max_zero_byte_items`` items that take no bytes are read."""
    budget = _DecodeBudget(max_zero_byte_items)
    _require(data, bytes, "bytes")
    s = _as_schema(schema)
    r = _optional_schema(reader)
    return _decode_one(s, r, data, None, budget)


_E = TypeVar("_E", EncodeError, DecodeError)


def _raise_batch(results: list[Any], failures: list[tuple[int, _E]]) -> NoReturn:
    """Raises the first failure of a batch, carrying every result and every error."""
    first = failures[0][1]
    first.results = results
    first.errors = list(failures)
    raise first


def encode_many(schema: Any, data: Iterable[Any]) -> list[bytes]:
    """Encodes many data in one call. A bad item does not stop the others: the first failure
    is raised with ``.index``, ``.results`` (None where an item failed) and ``.errors``."""
    s = _as_schema(schema)
    out: list[Any] = []
    failures: list[tuple[int, EncodeError]] = []
    for index, item in enumerate(data):
        try:
            out.append(s._encode(item))
        except Exception as exc:
            failures.append((index, encode_error(exc, index)))
            out.append(None)
    if failures:
        _raise_batch(out, failures)
    return out


def decode_many(
    schema: Any,
    items: Iterable[bytes],
    reader: Any = None,
    *,
    max_zero_byte_items: Any = wirecheck.DEFAULT_MAX_ZERO_BYTE_ITEMS,
) -> list[Any]:
    """Decodes many byte strings in one call, with ``encode_many``'s error contract. The
    whole batch reads at most ``max_zero_byte_items`` items that take no bytes."""
    budget = _DecodeBudget(max_zero_byte_items)
    s = _as_schema(schema)
    r = _optional_schema(reader)
    out: list[Any] = []
    failures: list[tuple[int, Any]] = []
    for index, item in enumerate(items):
        if not isinstance(item, bytes):
            raise TypeError(f"item {index} is not bytes")
        try:
            out.append(_decode_one(s, r, item, index, budget))
        except (DecodeError, SchemaResolutionError) as exc:
            failures.append((index, exc))
            out.append(None)
    if failures:
        _raise_batch(out, failures)
    return out


# --- schema resolution --------------------------------------------------------------------

# Plans built for decode(..., reader=...), keyed by the two schemas' identities (the schemas
# are kept, so an id cannot be reused while its entry lives).
_PLAN_CACHE: dict[tuple[int, int], tuple[Schema, Schema, resolve.Plan]] = {}
_PLAN_CACHE_LIMIT: Final = 512
_plan_lock = threading.Lock()


def _build_plan(writer: Schema, reader: Schema) -> resolve.Plan:
    return resolve.build_plan(writer._parsed.root, reader._parsed.root)


def _cached_plan(writer: Schema, reader: Schema) -> resolve.Plan:
    key = (id(writer), id(reader))
    with _plan_lock:
        entry = _PLAN_CACHE.get(key)
    if entry is not None:
        return entry[2]
    plan = _build_plan(writer, reader)
    with _plan_lock:
        if len(_PLAN_CACHE) >= _PLAN_CACHE_LIMIT:
            _PLAN_CACHE.clear()
        _PLAN_CACHE[key] = (writer, reader, plan)
    return plan


def _transcode(
    writer: Schema,
    reader: Schema,
    plan: resolve.Plan,
    data: bytes,
    budget: wirecheck.ItemBudget,
) -> bytes:
    if writer._parsed.recursive or reader._parsed.recursive:
        with deep_recursion():
            return transcode.transcode(plan, data, budget)
    return transcode.transcode(plan, data, budget)


def _items(items: Any) -> list[bytes]:
    """The batch items, as bytes (bytes and bytearray are accepted, as pyo3's
    ``PyBackedBytes``)."""
    out: list[bytes] = []
    for i, item in enumerate(items):
        if isinstance(item, bytes):
            out.append(bytes(item) if type(item) is not bytes else item)
        elif isinstance(item, bytearray):
            out.append(bytes(item))
        else:
            raise TypeError(f"item {i} is not bytes")
    return out


def _usize(value: Any) -> int:
    """pyo3's ``usize`` argument conversion, with its errors."""
    v = int(value) if isinstance(value, int) else operator.index(value)
    if v < 0:
        raise OverflowError("can't convert negative int to unsigned")
    if v >= 1 << 64:
        raise OverflowError("int too big to convert")
    return v


def _u32(value: Any) -> int:
    """pyo3's ``u32`` argument conversion, with its errors."""
    v = int(value) if isinstance(value, int) else operator.index(value)
    if not -(1 << 63) <= v < (1 << 63):
        raise OverflowError("Python int too large to convert to C long")
    if not 0 <= v < (1 << 32):
        raise OverflowError("out of range integral type conversion attempted")
    return v


BatchResult = tuple[list[bytes | None], list[tuple[int, Exception]]]


class Transcoder:
    """A compiled writer -> reader plan, applied to bytes. Immutable and thread-safe."""

    __slots__ = ("_limit", "_plan", "_reader", "_writer")
    _writer: Schema
    _reader: Schema
    _plan: resolve.Plan
    _limit: int

    def __new__(
        cls,
        writer: Any,
        reader: Any,
        *,
        max_zero_byte_items: Any = wirecheck.DEFAULT_MAX_ZERO_BYTE_ITEMS,
    ) -> Transcoder:
        limit = _usize(max_zero_byte_items)
        w = _as_schema(writer)
        r = _as_schema(reader)
        plan = _build_plan(w, r)
        self = object.__new__(cls)
        object.__setattr__(self, "_writer", w)
        object.__setattr__(self, "_reader", r)
        object.__setattr__(self, "_plan", plan)
        object.__setattr__(self, "_limit", limit)
        return self

    def __init_subclass__(cls, **kwargs: Any) -> NoReturn:
        raise TypeError("type 'avrobridge._fallback.Transcoder' is not an acceptable base type")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("changes", "max_zero_byte_items", "reader", "warnings", "writer"):
            raise AttributeError(
                f"attribute '{name}' of 'avrobridge._fallback.Transcoder' objects is not writable"
            )
        raise AttributeError(f"'avrobridge._fallback.Transcoder' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        self.__setattr__(name, None)

    def __getattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"'avrobridge._fallback.Transcoder' object has no attribute '{name}'")

    def __reduce__(self) -> NoReturn:
        raise TypeError("cannot pickle 'avrobridge._fallback.Transcoder' object")

    @property
    def writer(self) -> Schema:
        return self._writer

    @property
    def reader(self) -> Schema:
        return self._reader

    @property
    def warnings(self) -> list[str]:
        """Problems that make only some records unreadable (a writer enum symbol or union
        branch the reader cannot take); such records fail at transcode time."""
        return list(self._plan.warnings)

    @property
    def changes(self) -> list[tuple[str, str, str]]:
        """What the plan does to the records: (kind, location, message) for each field
        dropped, filled from its default or renamed through an alias, each promotion, each
        set of enum symbols read as the reader's default and each named type matched by an
        alias."""
        return list(self._plan.changes)

    @property
    def max_zero_byte_items(self) -> int:
        """Zero-byte items (null, empty records, fixed of size 0) each call may read in
        total."""
        return self._limit

    def _run(self, data: bytes, budget: wirecheck.ItemBudget) -> bytes:
        return _transcode(self._writer, self._reader, self._plan, data, budget)

    def transcode(self, data: bytes) -> bytes:
        """Writer bytes -> reader bytes."""
        _require(data, bytes, "bytes")
        try:
            return self._run(bytes(data), wirecheck.ItemBudget(self._limit))
        except Exception as exc:
            error = decode_error(exc, None)
        raise error

    def transcode_many(self, items: Any) -> BatchResult:
        """Transcodes every item; returns ``(outputs, errors)``: ``outputs[i]`` is bytes or
        None, ``errors`` lists ``(index, exception)`` for every item that failed."""
        inputs = _items(items)
        budget = wirecheck.ItemBudget(self._limit)
        outputs: list[bytes | None] = []
        errors: list[tuple[int, Exception]] = []
        for index, item in enumerate(inputs):
            try:
                outputs.append(self._run(item, budget))
            except Exception as exc:
                errors.append((index, decode_error(exc, index)))
                outputs.append(None)
        return outputs, errors

    def transcode_framed_many(
        self, items: Any, schema_id: Any, expected_writer_id: Any = None
    ) -> BatchResult:
        """The same for Confluent-framed records: each item must carry magic byte 0 and a
        schema id (equal to ``expected_writer_id`` when given); outputs carry ``schema_id``."""
        out_id = _u32(schema_id)
        expected = None if expected_writer_id is None else _u32(expected_writer_id)
        inputs = _items(items)
        header = framing.prefix(out_id)
        budget = wirecheck.ItemBudget(self._limit)
        outputs: list[bytes | None] = []
        errors: list[tuple[int, Exception]] = []
        for index, item in enumerate(inputs):
            try:
                writer_id, body = framing.split(item)
                if expected is not None and writer_id != expected:
                    raise FramingError(
                        f"record has schema id {writer_id}, this transcoder reads schema id "
                        f"{expected}"
                    )
                outputs.append(header + self._run(body, budget))
            except FramingError as exc:
                errors.append((index, FramingError(exc.message, 0, None, index)))
                outputs.append(None)
            except wirecheck.WireError as exc:
                # Offsets in framed records count the 5-byte header too.
                exc.offset += framing.HEADER_LEN
                errors.append((index, decode_error(exc, index)))
                outputs.append(None)
            except Exception as exc:
                errors.append((index, decode_error(exc, index)))
                outputs.append(None)
        return outputs, errors

    def __repr__(self) -> str:
        w = self._writer._parsed.root.branch_name
        r = self._reader._parsed.root.branch_name
        return f"Transcoder({w} -> {r})"


Transcoder.__module__ = "avrobridge._fallback"


def reader_writer_incompatibilities(reader: Any, writer: Any) -> list[tuple[str, str, str]]:
    """Every reason ``reader`` cannot read data written with ``writer``, as
    ``(error_type, location, message)`` triples in Apache Avro's order; empty when
    compatible."""
    r = _as_schema(reader)
    w = _as_schema(writer)
    return compat.check(r._parsed.root, w._parsed.root)
