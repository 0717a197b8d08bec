"""Confluent's REST errors: HTTP status, ``error_code`` and message, as its ``Errors`` class.

Every failure the API reports is a :class:`RestError`; the HTTP layer turns it into
``{"error_code": N, "message": "..."}``.
"""

from __future__ import annotations

from ..errors import AvroBridgeError

__all__ = ["RestError"]

_VERSION_MESSAGE = (
    "The specified version '{}' is not a valid version id. "
    'Allowed values are between [1, 2^31-1] and the string "latest"'
)


class RestError(AvroBridgeError):
    """A REST API failure of the registry server: HTTP ``status``, Confluent's ``error_code``."""

    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message

    def body(self) -> dict[str, object]:
        return {"error_code": self.error_code, "message": self.message}

    # -- 404 -------------------------------------------------------------------------------

    @classmethod
    def subject_not_found(cls, subject: str) -> RestError:
        return cls(404, 40401, f"Subject '{subject}' not found.")

    @classmethod
    def version_not_found(cls, version: int) -> RestError:
        return cls(404, 40402, f"Version {version} not found.")

    @classmethod
    def schema_not_found(cls, schema_id: int | None = None) -> RestError:
        message = "Schema not found" if schema_id is None else f"Schema {schema_id} not found"
        return cls(404, 40403, message)

    @classmethod
    def subject_soft_deleted(cls, subject: str) -> RestError:
        return cls(
            404,
            40404,
            f"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently",
        )

    @classmethod
    def subject_not_soft_deleted(cls, subject: str) -> RestError:
        return cls(
            404,
            40405,
            f"Subject '{subject}' was not deleted first before being permanently deleted",
        )

    @classmethod
    def version_soft_deleted(cls, subject: str, version: str) -> RestError:
        return cls(
            404,
            40406,
            f"Subject '{subject}' Version {version} was soft deleted."
            "Set permanent=true to delete permanently",
        )

    @classmethod
    def version_not_soft_deleted(cls, subject: str, version: str) -> RestError:
        return cls(
            404,
            40407,
            f"Subject '{subject}' Version {version} was not deleted first before being "
            "permanently deleted",
        )

    @classmethod
    def subject_level_compatibility_not_configured(cls, subject: str) -> RestError:
        return cls(
            404, 40408, f"Subject '{subject}' does not have subject-level compatibility configured"
        )

    @classmethod
    def subject_level_mode_not_configured(cls, subject: str) -> RestError:
        return cls(404, 40409, f"Subject '{subject}' does not have subject-level mode configured")

    # -- 409 / 422 -------------------------------------------------------------------------

    @classmethod
    def incompatible(cls, subject: str, messages: list[str]) -> RestError:
        # Java's List.toString: "[a, b]".
        details = "[" + ", ".join(messages) + "]"
        return cls(
            409,
            409,
            "Schema being registered is incompatible with an earlier schema for subject "
            f'"{subject}", details: {details}',
        )

    @classmethod
    def invalid_schema(cls, message: str) -> RestError:
        return cls(422, 42201, message)

    @classmethod
    def invalid_version(cls, version: str) -> RestError:
        return cls(422, 42202, _VERSION_MESSAGE.format(version))

    @classmethod
    def invalid_compatibility_level(cls) -> RestError:
        return cls(
            422,
            42203,
            "Invalid compatibility level. Valid values are none, backward, forward, full, "
            "backward_transitive, forward_transitive, and full_transitive",
        )

    @classmethod
    def invalid_mode(cls) -> RestError:
        return cls(422, 42204, "Invalid mode. Valid values are READWRITE, READONLY, and IMPORT.")

    @classmethod
    def operation_not_permitted(cls, message: str) -> RestError:
        return cls(422, 42205, message)

    @classmethod
    def reference_exists(cls, subject: str, version: int) -> RestError:
        key = f"{{magic=1,keytype=SCHEMA,subject={subject},version={version}}}"
        return cls(422, 42206, f"One or more references exist to the schema {key}.")

    @classmethod
    def invalid_subject(cls, subject: str) -> RestError:
        return cls(422, 42208, f"The specified subject '{subject}' is not a valid subject.")

    @classmethod
    def schema_too_large(cls, limit: int) -> RestError:
        return cls(
            422,
            42209,
            f"Register operation failed because schema is too large (limit {limit} bytes)",
        )

    # -- 500: the store and the leader ---------------------------------------------------

    @classmethod
    def store_error(cls, message: str) -> RestError:
        return cls(500, 50001, message)

    @classmethod
    def operation_timeout(cls, message: str) -> RestError:
        return cls(500, 50002, message)

    @classmethod
    def forwarding_failed(cls, message: str) -> RestError:
        return cls(500, 50003, message)

    @classmethod
    def unknown_leader(cls) -> RestError:
        return cls(500, 50004, "Leader not known.")

    # -- generic HTTP (rest-utils) ---------------------------------------------------------

    @classmethod
    def bad_json(cls, message: str) -> RestError:
        return cls(400, 400, message)

    @classmethod
    def missing_body(cls) -> RestError:
        return cls(422, 422, "Request body must not be null")

    @classmethod
    def body_too_large(cls, limit: int) -> RestError:
        return cls(413, 413, f"Request body is larger than the limit of {limit} bytes")

    @classmethod
    def http(cls, status: int, reason: str) -> RestError:
        return cls(status, status, f"HTTP {status} {reason}")
