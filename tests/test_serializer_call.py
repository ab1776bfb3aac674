"""Serializer.__call__ in C (serde/serializers/_call.c) and in Python give the same
results and raise the same errors, call after call, whatever the context and record."""
from __future__ import annotations

import itertools
import json
import shutil
import sysconfig
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import pytest
from confluent_kafka.schema_registry import RuleSet, Schema, SchemaRegistryClient
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

import serde
from serde.serializers._core import Serializer

_counter = itertools.count()
C_CALL = type(Serializer.__dict__["__call__"]).__name__ == "ValueCall"
PYTHON_CALL = Serializer.__dict__["__call__"].fallback if C_CALL else Serializer.__dict__["__call__"]

AVRO = json.dumps({"type": "record", "name": "R", "namespace": "t", "fields": [
    {"name": "id", "type": "long"}, {"name": "name", "type": "string"},
    {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2}}]})
JSON = json.dumps({"title": "P", "type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                   "required": ["name"], "additionalProperties": False})
PROTO = """syntax = "proto2";
package t;
message Part { required int32 x = 1; }
message Thing { required string name = 1; optional int32 n = 2; optional Part part = 3; }
message Other { optional string s = 1; }
"""
VALUE = SerializationContext("things", MessageField.VALUE)
KEY = SerializationContext("things", MessageField.KEY)


def test_the_c_call_is_built_where_there_is_a_c_compiler() -> None:
    # the build is optional (setup.py): without this check a broken build would pass
    # silently, every comparison below comparing the Python path with itself
    headers = Path(sysconfig.get_paths()["include"], "Python.h").is_file()
    if (shutil.which("cc") or shutil.which("gcc")) and headers:
        assert C_CALL, "a C compiler and Python's headers are here, but serde.serializers._call did not build"
    else:
        pytest.skip("no C compiler or no Python headers here: serde runs on its pure-Python path")


def outcome(call: Callable[[], Any]) -> Any:
    """What a call gave: its bytes, or the error's kinds, text and path."""
    try:
        return ("ok", call())
    except Exception as exc:  # noqa: BLE001 - compared, not handled
        return ("error", type(exc).__name__, isinstance(exc, SerializationError), isinstance(exc, serde.SerdeError),
                str(exc), getattr(exc, "path", None))


def run_both(monkeypatch: pytest.MonkeyPatch, script: Callable[[], list[Callable[[], Any]]]) -> list[Any]:
    """The script's calls on fresh serializers, once through each __call__; the outcomes
    of both, asserted equal, and returned."""
    results = []
    for call in (Serializer.__dict__["__call__"], PYTHON_CALL):
        with monkeypatch.context() as patch:
            patch.setattr(Serializer, "__call__", call)
            results.append([outcome(step) for step in script()])
    assert results[0] == results[1]
    return results[0]


def registry() -> SchemaRegistryClient:
    return SchemaRegistryClient.new_client({"url": f"mock://serializer-call-{next(_counter)}"})


def test_avro_and_json_calls_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    import decimal

    def script() -> list[Callable[[], Any]]:
        client = registry()
        avro = serde.serializer("avro", AVRO, client)
        jsn = serde.serializer("json", JSON, client)
        good = {"id": 1, "name": "a", "price": decimal.Decimal("1.50")}
        return [
            lambda: avro(good, VALUE), lambda: avro(good, VALUE), lambda: avro(dict(good, id=2), VALUE),
            lambda: avro({"id": "x", "name": "a", "price": decimal.Decimal("1.50")}, VALUE),  # refused, named
            lambda: avro(dict(good, price=decimal.Decimal("1.234")), VALUE),
            lambda: avro(None, VALUE), lambda: avro(good, KEY), lambda: avro(good, KEY),
            lambda: avro(good, None), lambda: avro(good, SimpleNamespace(topic="things")),
            lambda: avro(good, SimpleNamespace(field="value")),
            lambda: avro(good, SerializationContext("others", MessageField.VALUE)),
            lambda: jsn({"name": "b", "age": 3}, VALUE), lambda: jsn({"name": "b", "age": 3}, VALUE),
            lambda: jsn({"name": "b", "age": "3"}, VALUE), lambda: jsn({"age": 3}, VALUE), lambda: jsn(float("nan"), VALUE),
            lambda: avro(good, VALUE, extra=1),  # type: ignore[call-arg]
            lambda: avro(good), lambda: avro(), lambda: avro(good, ctx=VALUE),  # type: ignore[call-arg]
        ]

    results = run_both(monkeypatch, script)
    assert results[0][0] == "ok" and results[1] == results[0] and results[2][0] == "ok" and results[2] != results[0]
    assert results[3][:4] == ("error", "RecordInvalid", True, True) and results[3][5] == "$.id"
    assert results[4][0] == "error" and results[4][5] == "$.price"
    assert results[5] == ("ok", None)
    assert results[6][0] == "ok" and results[6][1][1:5] != results[0][1][1:5] and results[7] == results[6]  # the key's own id
    assert results[8][:2] == ("error", "ConfigError") and "topic" in results[8][4]
    assert results[9] == results[0]  # a context without a field: the value
    assert results[10][:2] == ("error", "ConfigError")
    assert results[11][0] == "ok" and results[11][1][5:] == results[0][1][5:]
    assert results[12][0] == "ok" and results[13] == results[12]
    assert results[14][:2] == ("error", "RecordInvalid") and results[14][5] == "$.age" and results[15][:2] == ("error", "RecordInvalid")
    assert results[16][0] == "error"
    assert results[17][:2] == ("error", "TypeError") and results[19][:2] == ("error", "TypeError")
    assert results[18][:2] == ("error", "ConfigError")  # no context at all: which topic?
    assert results[20] == results[0]


def test_protobuf_messages_dicts_and_refusals_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    def script() -> list[Callable[[], Any]]:
        ser = serde.serializer("protobuf", PROTO, registry(), message="t.Thing")
        thing = ser.schema.message_class
        other = serde.get_format("protobuf").parse_schema(PROTO, message="t.Other").message_class
        whole = thing(name="a", n=2)
        return [
            lambda: ser(whole, VALUE), lambda: ser(whole, VALUE), lambda: ser({"name": "a", "n": 2}, VALUE),
            lambda: ser(thing(n=1), VALUE),  # a required field missing: named by the encoder, in serde's words
            lambda: ser(thing(name="b", part={}), VALUE),
            lambda: ser(other(s="x"), VALUE),  # another message type
            lambda: ser({"n": 1}, VALUE), lambda: ser("text", VALUE), lambda: ser(whole, KEY),
        ]

    results = run_both(monkeypatch, script)
    assert results[0][0] == "ok" and results[1] == results[0] == results[2]
    assert results[3][:4] == ("error", "RecordInvalid", True, True) and results[3][5] == "$.name"
    assert results[4][0] == "error" and results[4][5] == "$.part.x" and "required field not set" in results[4][4]
    assert results[5][:2] == ("error", "RecordInvalid") and "expected a t.Thing message" in results[5][4]
    assert results[6][5] == "$.name" and results[7][:2] == ("error", "RecordInvalid")
    assert results[8][0] == "ok" and results[8][1][5:] == results[0][1][5:]


def test_rules_still_run_for_a_message_after_the_first_call(monkeypatch: pytest.MonkeyPatch) -> None:
    # a serializer whose encoder is wrapped by rules publishes no message classes: the
    # call must not skip the rules by writing the message itself
    def script() -> list[Callable[[], Any]]:
        client = registry()
        text = 'syntax = "proto3";\npackage t;\nmessage M { string name = 1; int32 n = 2; }\n'
        client.register_schema("rules-value", Schema(text, "PROTOBUF", [], None, RuleSet.from_dict({"domainRules": [
            {"name": "small", "kind": "CONDITION", "mode": "WRITE", "type": "CEL", "expr": "message.n < 10"}]})))
        ser = serde.serializer("protobuf", None, client, auto_register=False, use_latest_version=True, message="t.M")
        m = serde.get_format("protobuf").parse_schema(text, message="t.M").message_class
        ctx = SerializationContext("rules", MessageField.VALUE)
        return [lambda: ser(m(name="a", n=1), ctx), lambda: ser(m(name="a", n=1), ctx), lambda: ser(m(name="b", n=11), ctx)]

    results = run_both(monkeypatch, script)
    assert results[0][0] == "ok" and results[1] == results[0]
    assert results[2][:2] == ("error", "RuleConditionError") and results[2][2] is True


def test_header_schema_ids_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    def script() -> list[Callable[[], Any]]:
        ser = serde.serializer("json", JSON, registry(), schema_id_serializer="header")
        headers: list = []
        ctx = SerializationContext("things", MessageField.VALUE, headers)
        return [lambda: ser({"name": "a"}, ctx), lambda: ser({"name": "a"}, ctx), lambda: len(headers),
                lambda: ser({"name": "a"}, VALUE)]  # no headers to write the id into

    results = run_both(monkeypatch, script)
    assert results[0] == results[1] == ("ok", json.dumps({"name": "a"}, separators=(",", ":")).encode())
    assert results[2] == ("ok", 2) and results[3][:2] == ("error", "ConfigError")


def test_the_c_call_reads_as_a_method() -> None:
    ser = serde.serializer("json", JSON, registry())
    bound = ser.__call__
    assert bound(({"name": "a"}), VALUE)[5:] == b'{"name":"a"}'
    assert Serializer.__call__(ser, {"name": "a"}, VALUE) == bound({"name": "a"}, VALUE)


class _Proxy:
    """A transparent proxy (as wrapt's): it claims the wrapped object's class."""

    def __init__(self, wrapped: Any) -> None:
        object.__setattr__(self, "_wrapped", wrapped)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # noqa: D105
        return type(self._wrapped)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


def test_a_proxy_never_teaches_the_serializer_a_class(monkeypatch: pytest.MonkeyPatch) -> None:
    # found by review: a proxied message once accepted let a proxy around another message
    # type be written under this schema's id
    other_text = 'syntax = "proto3";\npackage t;\nmessage Other { string s = 1; int32 k = 7; }\n'

    def script() -> list[Callable[[], Any]]:
        ser = serde.serializer("protobuf", PROTO, registry(), message="t.Thing")
        thing = ser.schema.message_class
        other = serde.get_format("protobuf").parse_schema(other_text, message="t.Other").message_class
        return [lambda: ser(thing(name="a", n=1), VALUE), lambda: ser(_Proxy(thing(name="a", n=1)), VALUE),
                lambda: ser(_Proxy(other(s="zz", k=5)), VALUE)]

    results = run_both(monkeypatch, script)
    assert results[1] == results[0]
    assert results[2][:2] == ("error", "RecordInvalid") and "expected a t.Thing message, got a t.Other" in results[2][4]


class _Context:
    """A context whose field raises once (a KeyboardInterrupt landing there, a bad property)."""

    def __init__(self, error: BaseException) -> None:
        self.topic, self.headers, self._error = "things", None, error

    @property
    def field(self) -> str:
        error, self._error = self._error, None
        if error is not None:
            raise error
        return "value"


@pytest.mark.parametrize("error", [KeyboardInterrupt(), ValueError("bad field")])
def test_errors_reading_the_context_are_raised_not_retried(error: BaseException) -> None:
    for call in (Serializer.__dict__["__call__"], PYTHON_CALL):
        ser = serde.serializer("json", JSON, registry())
        assert call(ser, {"name": "a"}, VALUE)[5:] == b'{"name":"a"}'  # the topic known: the fast path
        ctx = _Context(error)
        with pytest.raises(type(error)):
            call(ser, {"name": "a"}, ctx)
        assert call(ser, {"name": "a"}, ctx)[5:] == b'{"name":"a"}'  # raised once, then fine


def test_the_c_call_describes_itself_as_the_python_one() -> None:
    import inspect

    ser = serde.serializer("json", JSON, registry())
    expected = inspect.signature(PYTHON_CALL)
    assert inspect.signature(Serializer.__call__) == expected
    assert list(inspect.signature(ser).parameters) == list(expected.parameters)[1:] == ["obj", "ctx"]
    assert Serializer.__call__.__name__ == "__call__"
