"""The fastavro backend's codec functions, with the behaviour of ``rust/src/py/mod.rs``
(argument handling, batch error contract, exception mapping of ``rust/src/py/errors.rs``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, NoReturn, TypeVar

from ..errors import DecodeError, EncodeError, SchemaResolutionError
from . import fastread, wirecheck
from .exceptions import decode_error, encode_error
from .schema_api import Schema, as_schema, require, strict_reader, strict_writer
from .transcoder_api import cached_plan, resolve_bytes, usize

# The keyword's default object: calls that leave it alone may read fastavro first.
_DEFAULT_BUDGET: Final = wirecheck.DEFAULT_MAX_ZERO_BYTE_ITEMS


def encode(schema: Any, datum: Any) -> bytes:
    """Encodes one datum."""
    s = as_schema(schema)
    try:
        return s._encode(datum)
    except Exception as exc:
        error = encode_error(exc, None)
    # Raised outside the except block: no __context__, like exceptions raised from Rust.
    raise error


def _optional_schema(reader: Any) -> Schema | None:
    return None if reader is None else as_schema(reader)


class _DecodeBudget:
    """What a decoding call may still read of zero-byte items: resolving (bytes to bytes)
    and building values each have the whole budget (Rust's ``DecodeBudget``)."""

    __slots__ = ("build", "resolve")

    def __init__(self, limit: Any) -> None:
        limit = usize(limit)
        self.resolve = wirecheck.ItemBudget(limit)
        self.build = wirecheck.ItemBudget(limit)


def _same_schema(writer: Schema, reader: Schema | None) -> bool:
    """Reading with the writer's own schema resolves nothing: decode directly."""
    return reader is None or reader is writer or reader.text == writer.text


def _fast_reader(schema: Any, reader: Any) -> fastread.StrictReader | None:
    """fastavro first, when a call needs nothing else: a Schema object and no reader schema
    but the writer's own (with the default zero-byte budget, checked by the caller)."""
    if type(schema) is not Schema:
        return None
    if reader is not None and not (type(reader) is Schema and _same_schema(schema, reader)):
        return None
    return strict_reader(schema)


def _decode_one(
    writer: Schema,
    reader: Schema | None,
    data: bytes,
    index: int | None,
    budget: _DecodeBudget,
    fast: bool = True,
) -> Any:
    """Decodes one datum of ``writer``, resolved to ``reader`` when given (the Rust
    ``decode_one``: transcode with the cached plan, then decode with the reader). ``fast``
    False: fastavro already failed on these bytes; walk them."""
    if reader is None:
        try:
            return writer._decode(data, budget.build, fast)
        except Exception as exc:
            error: Exception = decode_error(exc, index)
        raise error
    try:
        plan = cached_plan(writer, reader)
    except SchemaResolutionError as exc:
        resolution_error = exc
    else:
        try:
            resolved = resolve_bytes(writer, reader, plan, data, budget.resolve)
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
    fast = None
    if max_zero_byte_items is _DEFAULT_BUDGET and type(data) is bytes:
        fast = _fast_reader(schema, reader)
        if fast is not None:
            try:
                return fast.read(data)
            except Exception:
                pass  # walked below, once, for the exact error
    budget = _DecodeBudget(max_zero_byte_items)
    require(data, bytes, "bytes")
    s = as_schema(schema)
    r = _optional_schema(reader)
    return _decode_one(s, r, data, None, budget, fast is None)


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
    s = as_schema(schema)
    fast = strict_writer(s)
    out: list[Any] = []
    failures: list[tuple[int, EncodeError]] = []
    for index, item in enumerate(data):
        if fast is not None:
            try:
                out.append(fast.write(item))
                continue
            except Exception:
                pass  # walked below: defaults filled in, or the exact error
        try:
            out.append(s._encode(item, fast=False))
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
    fast = _fast_reader(schema, reader) if max_zero_byte_items is _DEFAULT_BUDGET else None
    budget = _DecodeBudget(max_zero_byte_items)
    s = as_schema(schema)
    r = _optional_schema(reader)
    out: list[Any] = []
    failures: list[tuple[int, Any]] = []
    for index, item in enumerate(items):
        if not isinstance(item, bytes):
            raise TypeError(f"item {index} is not bytes")
        if fast is not None:
            try:
                out.append(fast.read(item))
                continue
            except Exception:
                pass  # walked below, once, for the exact error
        try:
            out.append(_decode_one(s, r, item, index, budget, fast is None))
        except (DecodeError, SchemaResolutionError) as exc:
            failures.append((index, exc))
            out.append(None)
    if failures:
        _raise_batch(out, failures)
    return out
