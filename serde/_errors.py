"""The whole serde exception tree. Nothing else in serde defines a public error.

    SerdeError
    ├── SchemaParseError            a schema text that cannot be parsed or resolved
    ├── EncodeError                 a record that cannot be written with its schema
    │   └── RecordInvalid           ... because it does not fit the schema (field path + reason)
    ├── DecodeError                 bytes that cannot be read
    │   ├── FramingError            not a Confluent frame: wrong magic byte, truncated header
    │   └── ValidationError         decoded, but not valid against the writer schema
    ├── RegistryError(status, code) a schema registry answered with an error or did not answer
    │   ├── SubjectNotFound         40401
    │   ├── VersionNotFound         40402
    │   ├── SchemaNotFound          40403 (e.g. an unknown schema id in a frame)
    │   └── IncompatibleSchemaError 409 / 40901, or a local compatibility check that failed
    ├── RuleError(rule)             a data-contract rule that failed, or that nobody can execute
    │   └── RuleConditionError      ... a CONDITION rule whose expression said no
    ├── KafkaError                  a Kafka cluster that cannot be reached, or a delivery that failed
    ├── FormatUnavailable           a format name nobody registered, or whose dependency is missing
    └── ConfigError                 an option or option combination that makes no sense

Foreign exceptions (fastavro, jsonschema, protobuf, confluent_kafka) are translated where
each dependency is called and re-raised ``from`` the original, so no bare library
exception escapes the public API.

Every error that concerns one record carries ``path`` (the field path inside the record,
``""`` for the whole record) and ``location`` (where the record came from: a line, an
offset, a topic-partition-offset), so a message reads like
``line 7: $.items[2].price: expected a number, got 'abc'``.
"""
from __future__ import annotations

__all__ = [
    "ConfigError",
    "DecodeError",
    "EncodeError",
    "FormatUnavailable",
    "FramingError",
    "IncompatibleSchemaError",
    "KafkaError",
    "RecordInvalid",
    "RegistryError",
    "RuleConditionError",
    "RuleError",
    "SchemaNotFound",
    "SchemaParseError",
    "SerdeError",
    "SubjectNotFound",
    "ValidationError",
    "VersionNotFound",
]


class SerdeError(Exception):
    """Root of every error serde raises."""

    def __init__(self, message: str, *, path: str | None = None, location: str | None = None) -> None:
        super().__init__(message)
        self.reason = message
        self.path = path
        self.location = location

    def __str__(self) -> str:
        parts = []
        if self.location:
            parts.append(self.location)
        if self.path:
            parts.append(self.path)
        parts.append(self.reason)
        return ": ".join(parts)

    def __reduce__(self) -> tuple:
        # keep path/location (and subclass fields) across processes: the chunked
        # converter's workers hand their errors to the parent
        return (_rebuild, (type(self), self.reason, self.__dict__))

    def at(self, location: str) -> "SerdeError":
        """Return this error with ``location`` (e.g. ``"line 7"``) set, for chaining in loops."""
        if not self.location:
            self.location = location
        return self


def _rebuild(kind: type, reason: str, state: dict) -> "SerdeError":
    error = kind.__new__(kind)
    Exception.__init__(error, reason)
    error.__dict__.update(state)
    return error  # type: ignore[no-any-return]


class SchemaParseError(SerdeError):
    """A schema text that cannot be parsed, or references that cannot be resolved."""


class EncodeError(SerdeError):
    """A record that cannot be serialized."""


class RecordInvalid(EncodeError):
    """A record that does not fit its schema; ``path`` names the offending field."""


class DecodeError(SerdeError):
    """Bytes that cannot be deserialized."""


class FramingError(DecodeError):
    """Bytes that are not a valid Confluent frame (magic byte, length, message indexes)."""


class ValidationError(DecodeError):
    """A decoded value that is not valid against its schema."""


class RegistryError(SerdeError):
    """A schema registry error: ``status`` is the HTTP status (-1 when none), ``code`` the
    Confluent ``error_code`` (-1 when none), ``url`` the registry it came from."""

    def __init__(
        self,
        message: str,
        *,
        status: int = -1,
        code: int = -1,
        url: str | None = None,
        path: str | None = None,
        location: str | None = None,
    ) -> None:
        super().__init__(message, path=path, location=location)
        self.status = status
        self.code = code
        self.url = url

    def __str__(self) -> str:
        base = super().__str__()
        extra = []
        if self.url:
            extra.append(f"registry {self.url}")
        if self.status != -1:
            extra.append(f"HTTP {self.status}")
        if self.code != -1:
            extra.append(f"error_code {self.code}")
        return f"{base} ({', '.join(extra)})" if extra else base


class SubjectNotFound(RegistryError):
    """The subject does not exist (40401)."""


class VersionNotFound(RegistryError):
    """The subject has no such version (40402)."""


class SchemaNotFound(RegistryError):
    """No schema with that id, or the schema is not registered under the subject (40403)."""


class IncompatibleSchemaError(RegistryError):
    """A schema that breaks the subject's compatibility level; ``messages`` lists why."""

    def __init__(self, message: str, *, messages: list[str] | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.messages = list(messages or [])


class RuleError(SerdeError):
    """A data-contract rule (a schema's ``ruleSet``) failed: a CEL or JSONata expression
    that errs, an ENCRYPT rule without a key, a rule type no executor runs. ``rule`` is
    the rule's name, ``rule_type`` its type (CEL, ENCRYPT...), ``mode`` WRITE, READ,
    UPGRADE or DOWNGRADE, ``subject`` the subject whose schema carries it."""

    def __init__(self, message: str, *, rule: str | None = None, rule_type: str | None = None,
                 mode: str | None = None, subject: str | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.rule = rule
        self.rule_type = rule_type
        self.mode = mode
        self.subject = subject


class RuleConditionError(RuleError):
    """A CONDITION rule's expression did not hold for the record (the rule's ``doc``, or
    its expression, is the reason)."""


class KafkaError(SerdeError):
    """A Kafka cluster that cannot be reached or refused a request (names the broker
    list, never credentials), or a record that could not be delivered."""


class FormatUnavailable(SerdeError):
    """A format that is not registered, or whose optional dependency is not installed."""


class ConfigError(SerdeError, ValueError):
    """Options that are unknown or contradict each other."""
