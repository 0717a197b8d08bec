"""Every exception the package raises is an AvroBridgeError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import avrobridge
from avrobridge.bench.suite import CheckFailed
from avrobridge.bench.tables import PlotUnavailable
from avrobridge.errors import AvroBridgeError, DataError, DecodeError, EncodeError
from avrobridge.registry.rest_errors import RestError
from avrobridge.registry.store import NotLeaderError, StoreError
from avrobridge.schemas_commands import CommandError, UsageError

# Signals raised and caught inside one module (or its package), never let out: they carry
# no message for a user and are turned into one of the hierarchy's classes where caught.
_INTERNAL_SIGNALS = {
    "avrobridge._fallback.codec_objects.EncodeFailure",
    "avrobridge._fallback.container_blocks.Fail",
    "avrobridge._fallback.container_codecs.Corrupt",
    "avrobridge._fallback.container_codecs.TooLarge",
    "avrobridge.schema.default.DefaultError",
    "avrobridge._fallback.wirecheck.PythonFailure",
    "avrobridge._fallback.wirecheck.WireError",
    "avrobridge._fallback.fastread.Refused",
    "avrobridge.bench.impls.Unsupported",
    "avrobridge.codegen.conversions.NoDefault",
    "avrobridge.datagen.unions.Unencodable",
    "avrobridge.bridge.retry.KafkaGaveUp",
}


@pytest.mark.parametrize(
    ("cls", "also"),
    [
        (RestError, None),
        (StoreError, None),
        (NotLeaderError, StoreError),
        (CommandError, None),
        (UsageError, CommandError),
        (CheckFailed, None),
        (PlotUnavailable, RuntimeError),
        (DecodeError, DataError),
        (EncodeError, DataError),
    ],
)
def test_exceptions_outside_the_codec_are_avrobridge_errors(
    cls: type[BaseException], also: type[BaseException] | None
) -> None:
    assert issubclass(cls, AvroBridgeError)
    if also is not None:
        assert issubclass(cls, also)


def test_rest_error_keeps_status_code_and_body() -> None:
    exc = RestError.subject_not_found("s")
    assert isinstance(exc, AvroBridgeError)
    assert (exc.status, exc.error_code) == (404, 40401)
    assert exc.body() == {"error_code": 40401, "message": "Subject 's' not found."}


def test_every_public_exception_class_of_the_package_is_an_avrobridge_error() -> None:
    outside = []
    for info in pkgutil.walk_packages(avrobridge.__path__, "avrobridge."):
        if info.name.endswith(".__main__"):  # runs a command when imported
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__ == module.__name__
                and not name.startswith("_")
                and not issubclass(obj, AvroBridgeError)
                and f"{module.__name__}.{name}" not in _INTERNAL_SIGNALS
            ):
                outside.append(f"{module.__name__}.{name}")
    assert outside == []
