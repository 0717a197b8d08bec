"""Typed Python classes from Avro schemas (``avrobridge codegen``).

``avrobridge codegen schema.avsc [more.avsc ...] -o module.py`` writes one module, standalone
(it imports only the standard library) and clean under ``mypy --strict``:

* a record becomes a ``@dataclass(kw_only=True, slots=True)`` class with type hints, its
  ``doc`` as the docstring and field ``doc``s as attribute docstrings; an enum becomes an
  ``enum.Enum`` whose values are the symbols; fixed and bytes are ``bytes``;
* unions are ``X | Y | None``, arrays ``list[...]``, maps ``dict[str, ...]``, logical types
  ``datetime.date``/``time``/``datetime`` (timestamps UTC-aware, local timestamps naive),
  ``decimal.Decimal`` and ``uuid.UUID``, exactly the types ``avrobridge.decode`` returns;
* field defaults are kept (lists, maps and records through ``field(default_factory=...)``);
* ``to_dict()`` gives the representation ``avrobridge.encode`` (and fastavro) take, and
  ``from_dict()`` builds the classes from what ``avrobridge.decode`` returns; enums convert
  to and from their symbol; recursive types work; union branches are told apart as fastavro's
  writer tells them apart;
* every record class carries its standalone schema as ``__avro_schema__``.

Names: a class takes the type's short name; short names that clash get a prefix made of
their namespace's last components (``com.acme.v1.Status`` -> ``V1Status``). Names that are
Python keywords or would shadow what the module uses get a trailing underscore (fields keep
their Avro names in ``to_dict``). Schemas given together share one namespace of names, as
schema references do: a later file may use the types of an earlier one.

:func:`decode_as` and :func:`encode_record` use such classes with the codec directly;
``avrobridge.serde.AvroDeserializer(..., record_type=Employee)`` returns them from Kafka.
"""

from __future__ import annotations

from .cli import add_codegen_command
from .generator import generate, generate_files
from .runtime import AvroRecord, RecordType, decode_as, encode_record

__all__ = [
    "AvroRecord",
    "RecordType",
    "add_codegen_command",
    "decode_as",
    "encode_record",
    "generate",
    "generate_files",
]
