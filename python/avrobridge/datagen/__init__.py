"""Realistic random data for any Avro schema, deterministic from a seed.

The values are in the Python representation :func:`avrobridge.encode` accepts and
:func:`avrobridge.decode` gives back (fastavro's): records are dicts, enums str, bytes and
fixed bytes, unions the plain value, and the logical types their Python objects (``Decimal``,
``UUID``, ``date``, ``time``, aware UTC ``datetime`` for ``timestamp-*``, naive ``datetime``
for ``local-timestamp-*``; ``timestamp-nanos``, ``local-timestamp-nanos``, ``uuid`` on a
``fixed`` and ``duration`` keep their underlying ``int``/``bytes``). Every generated value
round-trips: ``decode(encode(v)) == v``.

"Realistic" means the sizes a real topic carries rather than the extremes a fuzzer looks for:
short words for strings (names, e-mail addresses, cities, digits when the field name says
so), small numbers more often than large ones, 0-5 items in arrays and maps, ``null`` in
about a fifth of the nullable unions, recent dates and times. Recursive types are cut off at a
bounded depth (empty arrays and maps, the ``null`` branch, or the shallowest branch).

    >>> from avrobridge.datagen import DataGenerator
    >>> gen = DataGenerator(schema_text, seed=1)
    >>> records = gen.generate_many(1000)
"""

from __future__ import annotations

from .generator import DataGenerator, generate

__all__ = ["DataGenerator", "generate"]
