"""CEL and CEL_FIELD rules, with confluent-kafka's bindings and conversions.

Two engines, one behaviour: ``common-expression-language`` (the Rust cel-interpreter,
about 20 times faster per evaluation; the default when installed) and ``cel-python``
(``celpy``, pure Python, the engine confluent-kafka uses). ``$SERDE_CEL_ENGINE`` (rust or
celpy) picks one; both pass confluent-kafka's rule cases (tests/confluent).

``CEL`` binds ``message`` (the whole record). ``CEL_FIELD`` runs once per leaf field
and binds ``value``, ``fullName``, ``name``, ``typeName``, ``tags`` and ``message`` (the
record holding the field). Both bind ``now`` (a timestamp) when the expression names it,
as Java does. ``guard ; body``: the body runs only when the guard holds (a condition
whose guard does not hold passes; a transform leaves the value as it was).

Values become CEL values as confluent-kafka converts them: a bool is a CEL bool, a
datetime a timestamp, a timedelta a duration, a date its days since 1970-01-01, a UUID
its text. Results come back as plain Python values.
"""
from __future__ import annotations

import datetime
import decimal
import ipaddress
import os
import re
import threading
import uuid
from typing import Any, Callable
from urllib.parse import urlsplit

from .._errors import RuleError
from ._executor import FieldContext, FieldRuleExecutor, RuleContext, RuleExecutor

MAX_EXPRESSION = 16 * 1024
# the field types a CEL_FIELD rule evaluates (confluent-kafka's FieldContext.is_primitive)
PRIMITIVE_TYPES = frozenset({"INT", "LONG", "FLOAT", "DOUBLE", "BOOLEAN", "NULL", "STRING", "BYTES"})
_EPOCH_DAY = datetime.date(1970, 1, 1).toordinal()


_TIMESTAMP = "google.protobuf.Timestamp"
_DECIMAL = "confluent.type.Decimal"


def proto_plain(message: Any) -> dict[str, Any]:
    """A Protobuf message as confluent-kafka shows it to CEL (protovalidate's mapping),
    by its descriptor: every field, zero values included (a sub-message only when set);
    64-bit integers as ints, enums as their numbers, bytes as bytes, a Timestamp as a
    datetime."""
    out: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {k: _proto_value(v, value_field) for k, v in getattr(message, field.name).items()}
        elif (field.is_repeated if hasattr(field, "is_repeated") else field.label == 3):
            out[field.name] = [_proto_value(v, field) for v in getattr(message, field.name)]
        elif getattr(field, "has_presence", False) and not message.HasField(field.name):
            continue
        else:
            out[field.name] = _proto_value(getattr(message, field.name), field)
    return out


def _proto_value(value: Any, field: Any) -> Any:
    if field.type in (10, 11):
        if field.message_type.full_name == _TIMESTAMP:
            return value.ToDatetime(tzinfo=datetime.timezone.utc)
        return proto_plain(value)
    return value


def to_cel(value: Any) -> Any:
    """A Python value (as serde's formats decode them) as a celpy value."""
    from celpy import celtypes

    if isinstance(value, dict):
        out = celtypes.MapType()
        for k, v in value.items():
            out[celtypes.StringType(k) if isinstance(k, str) else to_cel(k)] = to_cel(v)
        return out
    if isinstance(value, (list, tuple)):
        return celtypes.ListType(to_cel(v) for v in value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, (bytes, bytearray)):
        return celtypes.BytesType(bytes(value))
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return celtypes.TimestampType(value)
    if isinstance(value, datetime.timedelta):
        return celtypes.DurationType(value)
    if isinstance(value, datetime.date):
        return celtypes.IntType(value.toordinal() - _EPOCH_DAY)
    if isinstance(value, uuid.UUID):
        return celtypes.StringType(str(value))
    if hasattr(value, "ListFields"):  # a Protobuf message
        return to_cel(proto_plain(value))
    return value  # Decimal, time: as confluent-kafka, unconverted


def from_cel(value: Any) -> Any:
    """A celpy result as a plain Python value."""
    from celpy import celtypes
    from celpy.evaluation import CELEvalError

    if isinstance(value, CELEvalError):
        raise RuleError(f"CEL evaluation failed: {_eval_reason(value)}")
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, celtypes.MapType):
        return {from_cel(k): from_cel(v) for k, v in value.items()}
    if isinstance(value, celtypes.ListType):
        return [from_cel(v) for v in value]
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.BytesType):
        return bytes(value)
    if isinstance(value, celtypes.IntType) or isinstance(value, celtypes.UintType):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.TimestampType):
        return datetime.datetime.fromtimestamp(value.timestamp(), tz=datetime.timezone.utc)
    return value


MAX_REASON = 300
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'" + r'|"(?:[^"\\]|\\.)*"')


def scrub(reason: str, expression: str) -> str:
    """An engine's error without the values it quotes: a quoted fragment that is not in
    the expression itself (a name, a literal) came from the record (PII), so it goes."""
    return _QUOTED.sub(lambda m: m.group(0) if m.group(0)[1:-1] in expression else "<redacted>", reason)


def _eval_reason(error: Any) -> str:
    """celpy's reason without the activation it appends, which holds the record's values
    (they must not reach errors and logs: PII), cut to a readable length."""
    args = getattr(error, "args", ())
    reason = str(args[0]) if args else type(error).__name__
    reason = reason.split(" (in activation", 1)[0]
    return reason if len(reason) <= MAX_REASON else reason[:MAX_REASON] + "..."


# --------------------------------------------------------------------------- extra functions
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_HOST_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def _is_hostname(text: str) -> bool:
    if not text or len(text) > 253:
        return False
    labels = text[:-1].split(".") if text.endswith(".") else text.split(".")
    return all(_HOST_LABEL.match(label) for label in labels) and not labels[-1].isdigit()


def _is_ip(text: str, version: int = 0) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return version in (0, address.version)


def _is_uri(text: str, absolute: bool) -> bool:
    if any(c.isspace() for c in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return bool(parts.scheme) if absolute else True


def _is_uuid(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", text))


def _bool(fn: Callable[..., bool]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        return bool(fn(*(str(a) if isinstance(a, str) else a for a in args)))

    return call


def _strings() -> dict[str, Callable[..., Any]]:
    """CEL's string extension (cel-go ext.Strings, which Java's CEL executor also loads):
    ``value.substring(7)``, ``value.replace('-', '')``... celpy has none of them."""
    S = str

    def substring(text: Any, start: Any, end: Any = None) -> Any:
        start, stop = int(start), len(text) if end is None else int(end)
        if not 0 <= start <= stop <= len(text):
            raise ValueError(f"substring({start}, {stop}) out of range for a string of {len(text)}")
        return S(str(text)[start:stop])

    def char_at(text: Any, index: Any) -> Any:
        index = int(index)
        if not 0 <= index <= len(text):
            raise ValueError(f"charAt({index}) out of range")
        return S(str(text)[index:index + 1])

    def split(text: Any, sep: Any, limit: Any = -1) -> Any:
        limit = int(limit)
        text, sep = str(text), str(sep)
        if limit == 0:
            return []
        if not sep:  # cel-go: an empty separator splits into characters
            chars = list(text)
            return chars if limit < 0 or limit >= len(chars) else chars[:limit - 1] + ["".join(chars[limit - 1:])]
        return text.split(sep, limit - 1) if limit > 0 else text.split(sep)

    def join(items: Any, sep: Any = "") -> Any:
        return S(str(sep).join(str(i) for i in items))

    def replace(text: Any, old: Any, new: Any, limit: Any = -1) -> Any:
        return S(str(text).replace(str(old), str(new), int(limit)))

    return {
        "substring": substring, "charAt": char_at, "split": split, "join": join, "replace": replace,
        "indexOf": lambda text, sub, start=0: str(text).find(str(sub), int(start)),
        "lastIndexOf": lambda text, sub: str(text).rfind(str(sub)),
        "lowerAscii": lambda text: S(str(text).lower()), "upperAscii": lambda text: S(str(text).upper()),
        "trim": lambda text: S(str(text).strip()),
    }


FUNCTIONS: dict[str, Callable[..., Any]] = {
    **_strings(),
    "isEmail": _bool(lambda s: bool(_EMAIL.match(s)) and len(s) <= 254),
    "isHostname": _bool(_is_hostname),
    "isIp": _bool(lambda s, v=0: _is_ip(s, int(v))),
    "isIpv4": _bool(lambda s: _is_ip(s, 4)),
    "isIpv6": _bool(lambda s: _is_ip(s, 6)),
    "isUri": _bool(lambda s: _is_uri(s, True)),
    "isUriRef": _bool(lambda s: _is_uri(s, False)),
    "isUuid": _bool(_is_uuid),
}


def _cel_string(value: Any) -> str:
    """CEL's string() for every type (the Rust engine has no overload for bools,
    timestamps or durations; cel-python writes a bool as 'True')."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.timedelta):
        seconds = value.total_seconds()
        return f"{seconds:g}s"
    return str(value)


def _cel_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value)
    if text in ("1", "t", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "false", "FALSE", "False"):
        return False
    raise ValueError("not a boolean text")


def _cel_int(value: Any) -> int:
    if isinstance(value, datetime.datetime):
        return int(value.timestamp())
    if isinstance(value, float):
        if not -(2**63) <= value < 2**63:
            raise ValueError("double out of the int range")
        return int(value)
    if isinstance(value, bool):
        raise ValueError("no int() of a bool in CEL")
    return int(value)


def _cel_timestamp(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
    return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _cel_matches(text: Any, pattern: Any) -> bool:
    try:
        import re2 as engine
    except ImportError:  # pragma: no cover - google-re2 comes with the rules extra
        engine = re
    return engine.compile(str(pattern)).search(str(text)) is not None


# what the Rust engine lacks, or has only for some argument types
RUST_FUNCTIONS: dict[str, Callable[..., Any]] = {
    **FUNCTIONS, "string": _cel_string, "bool": _cel_bool, "int": _cel_int, "timestamp": _cel_timestamp,
    "matches": _cel_matches,
}


# --------------------------------------------------------------------------- engines
def _plain(value: Any) -> Any:
    """A Python value as the Rust engine takes it: what it has no type for (a date, a
    UUID, a Decimal, a Protobuf message) converted as confluent-kafka converts it."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, bool, int, float, bytes)) or value is None:
        return value
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=datetime.timezone.utc)
    if isinstance(value, datetime.date):
        return value.toordinal() - _EPOCH_DAY
    if isinstance(value, (uuid.UUID, datetime.time)):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytearray):
        return bytes(value)
    if hasattr(value, "ListFields"):
        return _plain(proto_plain(value))
    return value


def restore(original: Any, result: Any) -> Any:
    """A transform's result with the Python types the engines have no CEL type for put
    back where the original had them: a Decimal (a double in CEL), a date (its day
    number), a UUID or a time (their text); a value the rule did not change comes back
    as the very original object."""
    if type(original) is dict and type(result) is dict:
        return {k: restore(original[k], v) if k in original else v for k, v in result.items()}
    if type(original) is list and type(result) is list and len(original) == len(result):
        return [restore(o, r) for o, r in zip(original, result)]
    try:
        if isinstance(original, decimal.Decimal) and isinstance(result, (int, float)) and not isinstance(result, bool):
            return original if float(original) == result else decimal.Decimal(str(result))
        if isinstance(original, datetime.date) and not isinstance(original, datetime.datetime) \
                and isinstance(result, int) and not isinstance(result, bool):
            return datetime.date.fromordinal(result + _EPOCH_DAY)
        if isinstance(original, uuid.UUID) and isinstance(result, str):
            return uuid.UUID(result)
        if isinstance(original, datetime.time) and isinstance(result, str):
            return datetime.time.fromisoformat(result)
    except (ValueError, OverflowError):
        return result  # the rule made something else of it: the codec will say what
    return result


def _to_proto(out: dict[str, Any], message: Any) -> Any:
    """Fill a new message of ``message``'s class from a transform's result (the mapping
    :func:`proto_plain` gives CEL)."""
    target = type(message)()
    _fill(target, out)
    return target


def _fill(target: Any, values: dict[str, Any]) -> None:
    fields = target.DESCRIPTOR.fields_by_name
    for name, value in values.items():
        field = fields.get(name)
        if field is None or value is None:
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            container = getattr(target, name)
            for k, v in value.items():
                if value_field.type in (10, 11):
                    _fill_message(container[k], v)
                else:
                    container[k] = v
        elif (field.is_repeated if hasattr(field, "is_repeated") else field.label == 3):
            container = getattr(target, name)
            for item in value:
                if field.type in (10, 11):
                    _fill_message(container.add(), item)
                else:
                    container.append(item)
        elif field.type in (10, 11):
            _fill_message(getattr(target, name), value)
        else:
            setattr(target, name, value)


def _fill_message(target: Any, value: Any) -> None:
    if target.DESCRIPTOR.full_name == _TIMESTAMP and isinstance(value, datetime.datetime):
        target.FromDatetime(value)
    elif isinstance(value, dict):
        _fill(target, value)
        if not value:
            target.SetInParent()


class _Engine:
    """Compiled programs by expression text, bounded in length; a parse error is a
    RuleError with the parser's reason."""

    def __init__(self) -> None:
        self._programs: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _compile(self, text: str) -> Any:
        raise NotImplementedError

    def program(self, text: str) -> Any:
        found = self._programs.get(text)
        if found is None:
            if len(text) > MAX_EXPRESSION:
                raise RuleError(f"CEL expression of {len(text)} characters (at most {MAX_EXPRESSION})")
            try:
                found = self._compile(text)
            except Exception as exc:  # noqa: BLE001 - each engine's parse errors
                raise RuleError(f"invalid CEL expression {text!r}: {_eval_reason(exc)}") from None
            with self._lock:
                self._programs[text] = found
        return found


class _RustEngine(_Engine):
    """common-expression-language: compiled programs, plain Python values in and out."""

    name = "rust"

    def __init__(self) -> None:
        import cel

        self._cel = cel
        super().__init__()

    def _compile(self, text: str) -> Any:
        # the extension functions, only for the programs that call one (a plain dict of
        # variables is the fast way in)
        return self._cel.compile(text), [n for n in RUST_FUNCTIONS if re.search(rf"\b{n}\s*\(", text)]

    convert = staticmethod(_plain)

    def evaluate(self, text: str, bindings: dict[str, Any]) -> Any:
        program, names = self.program(text)
        if "now" in text and "now" not in bindings:
            bindings["now"] = datetime.datetime.now(tz=datetime.timezone.utc)
        if names:
            context = self._cel.Context()
            for name in names:
                context.add_function(name, RUST_FUNCTIONS[name])
            context.update(bindings)
            arguments: Any = context
        else:
            arguments = bindings
        try:
            return program.execute(arguments)
        except RecursionError:
            raise RuleError(f"CEL expression {text!r} nests too deep") from None
        except KeyError:  # the key is the record's (message.m[message.ssn]): not quoted
            raise RuleError(f"CEL evaluation of {text!r} failed: no such key") from None
        except Exception as exc:  # noqa: BLE001 - the engine raises TypeError, ValueError...
            raise RuleError(f"CEL evaluation of {text!r} failed: {type(exc).__name__}: "
                            f"{scrub(_eval_reason(exc), text)}") from None

    @staticmethod
    def result(value: Any) -> Any:
        return value


class _CelPyEngine(_Engine):
    """cel-python: an interpreted environment, celpy values in and out."""

    name = "celpy"

    def __init__(self) -> None:
        import celpy

        self._env = celpy.Environment()
        super().__init__()

    def _compile(self, text: str) -> Any:
        return self._env.program(self._env.compile(text), functions=_celpy_functions())

    convert = staticmethod(to_cel)

    def evaluate(self, text: str, bindings: dict[str, Any]) -> Any:
        from celpy import celtypes
        from celpy.evaluation import CELEvalError

        if "now" in text and "now" not in bindings:
            bindings["now"] = celtypes.TimestampType(datetime.datetime.now(tz=datetime.timezone.utc))
        try:
            result = self.program(text).evaluate(bindings)
        except CELEvalError as exc:
            raise RuleError(f"CEL evaluation of {text!r} failed: {scrub(_eval_reason(exc), text)}") from None
        except RuleError:
            raise
        except RecursionError:
            raise RuleError(f"CEL expression {text!r} nests too deep") from None
        except Exception as exc:  # noqa: BLE001 - celpy raises TypeError & co. on bad operands
            raise RuleError(f"CEL evaluation of {text!r} failed: {type(exc).__name__}: "
                            f"{scrub(_eval_reason(exc), text)}") from None
        if isinstance(result, CELEvalError):
            raise RuleError(f"CEL evaluation of {text!r} failed: {scrub(_eval_reason(result), text)}")
        return from_cel(result)

    @staticmethod
    def result(value: Any) -> Any:
        return value


def _celpy_functions() -> dict[str, Callable[..., Any]]:
    """The extension functions with celpy's result types."""
    from celpy import celtypes

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            return to_cel(fn(*args))

        return call

    def string(value: Any) -> Any:  # celpy writes a bool as 'True'
        return celtypes.StringType(_cel_string(from_cel(value)) if isinstance(value, celtypes.BoolType)
                                   else celtypes.StringType(value))

    def timestamp(value: Any) -> Any:  # celpy has no timestamp(int)
        if isinstance(value, celtypes.IntType):
            return celtypes.TimestampType(_cel_timestamp(int(value)))
        return celtypes.TimestampType(value)

    return {**{name: wrap(fn) for name, fn in FUNCTIONS.items()}, "string": string, "timestamp": timestamp}


def new_engine() -> Any:
    """The CEL engine: ``$SERDE_CEL_ENGINE`` if set, else the Rust one when installed."""
    wanted = os.environ.get("SERDE_CEL_ENGINE", "").strip().lower()
    if wanted not in ("", "rust", "celpy"):
        raise RuleError(f"SERDE_CEL_ENGINE must be rust or celpy, not {wanted!r}")
    if wanted != "celpy":
        try:
            return _RustEngine()
        except ImportError:
            if wanted == "rust":
                raise RuleError("SERDE_CEL_ENGINE=rust needs common-expression-language: "
                                "pip install 'serde-kafka[rules]'") from None
    try:
        return _CelPyEngine()
    except ImportError:
        raise RuleError("CEL rules need common-expression-language (or cel-python): "
                        "pip install 'serde-kafka[rules]'") from None


def _expression(ctx: RuleContext) -> tuple[str | None, str, bool]:
    """(guard or None, body, whether the rule is a CONDITION) of a CEL or CEL_FIELD rule:
    ``guard ; body`` splits at the first ';'."""
    expr = ctx.rule.get("expr")
    if not expr:
        raise RuleError(f"a {ctx.rule_type} rule needs an expr")
    guard, sep, body = str(expr).partition(";")
    condition = str(ctx.rule.get("kind") or "TRANSFORM").upper() == "CONDITION"
    if not sep:
        return None, str(expr), condition
    return (guard if guard.strip() else None), body, condition


# --------------------------------------------------------------------------- executors
class CelExecutor(RuleExecutor):
    """``CEL``: one expression over the whole record (``message``)."""

    type = "CEL"

    def __init__(self) -> None:
        self._engine = new_engine()

    def transform(self, ctx: RuleContext, message: Any) -> Any:
        guard, body, condition = _expression(ctx)
        engine = self._engine
        bindings = {"message": engine.convert(message)}
        if guard is not None and not engine.evaluate(guard, dict(bindings)):
            return True if condition else message
        out = engine.evaluate(body, bindings)
        if condition:
            return out
        if hasattr(message, "ListFields") and isinstance(out, dict):
            try:
                return _to_proto(out, message)
            except (TypeError, ValueError, AttributeError) as exc:
                raise RuleError(f"the CEL result does not fit message {message.DESCRIPTOR.full_name}: "
                                f"{type(exc).__name__}") from None
        return restore(message, out)


class CelFieldExecutor(FieldRuleExecutor):
    """``CEL_FIELD``: one expression per leaf field."""

    type = "CEL_FIELD"

    def __init__(self) -> None:
        self._engine = new_engine()

    def new_transform(self, ctx: RuleContext) -> Callable[[FieldContext, Any], Any]:
        guard, body, condition = _expression(ctx)
        engine = self._engine
        convert = engine.convert
        # the holder only when the expression reads it (converting a record per field is
        # most of a field rule's cost); converted for each field, as it is then: an
        # earlier field's transform shows, as in confluent-kafka
        wants_message = "message" in str(ctx.rule.get("expr"))

        def run(field: FieldContext, value: Any) -> Any:
            if field.type_name not in PRIMITIVE_TYPES:
                return True if condition else value  # enums, fixed: as confluent-kafka, left alone
            bindings: dict[str, Any] = {
                "value": convert(value), "fullName": field.full_name, "name": field.name,
                "typeName": field.type_name, "tags": sorted(field.tags),
            }
            if wants_message:
                bindings["message"] = convert(field.message)
            if engine.name == "celpy":
                bindings = {k: v if k in ("value", "message") else convert(v) for k, v in bindings.items()}
            if guard is not None and not engine.evaluate(guard, dict(bindings)):
                return True if condition else value
            result = engine.evaluate(body, bindings)
            return result if condition else restore(value, result)

        return run
