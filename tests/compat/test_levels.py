"""Levels, directions and the transitive walk, for all three schema types."""
from __future__ import annotations

import json

import pytest

from serde._errors import ConfigError, SchemaParseError
from serde.compat import LEVELS, check


def avro(*fields):
    return json.dumps({"type": "record", "name": "R", "fields": list(fields)})


# Avro (CSR issue #209): v1 has no x; v2 adds x with a default; v3 drops the default. Each
# step passes BACKWARD, but v3 cannot read v1 data.
AVRO_V1 = avro({"name": "a", "type": "int"})
AVRO_V2 = avro({"name": "a", "type": "int"}, {"name": "x", "type": "int", "default": 0})
AVRO_V3 = avro({"name": "a", "type": "int"}, {"name": "x", "type": "int"})

# JSON: the new schema (integer) accepts v2 (integer) documents but not v1 (number) ones;
# v1 accepts everything the new schema does.
JSON_HISTORY = ['{"type": "number"}', '{"type": "integer"}']
JSON_NEW = '{"type": "integer"}'

# Protobuf: v2 dropped field 1 and the new schema reuses tag 1 with an incompatible type:
# fine against v2 in both directions, breaking against v1 in both.
PROTO_HISTORY = ['syntax = "proto3"; message M { string a = 1; }', 'syntax = "proto3"; message M { }']
PROTO_NEW = 'syntax = "proto3"; message M { int32 a = 1; }'

#              NONE  BACKWARD B_TRANS FORWARD F_TRANS FULL  FULL_TRANS   (order of LEVELS)
EXPECTED = {
    "AVRO": (True, True, False, True, True, True, False),
    "JSON": (True, True, False, True, True, True, False),
    "PROTOBUF": (True, True, False, True, False, True, False),
}
CASES = {
    "AVRO": (AVRO_V3, [AVRO_V1, AVRO_V2]),
    "JSON": (JSON_NEW, JSON_HISTORY),
    "PROTOBUF": (PROTO_NEW, PROTO_HISTORY),
}


@pytest.mark.parametrize("schema_type", sorted(EXPECTED))
@pytest.mark.parametrize("level", LEVELS)
def test_only_transitive_levels_see_the_break_with_the_oldest_version(schema_type, level):
    new, history = CASES[schema_type]
    result = check(schema_type, new, history, level=level)
    assert result.compatible is EXPECTED[schema_type][LEVELS.index(level)], result.messages
    if not result.compatible:
        assert {v.old_version for v in result.violations} == {1}
        assert all("old version 1" in m for m in result.messages)


def test_full_lists_forward_findings_first():
    # the old schema needs c, which new data lacks (forward); the new one narrows a and
    # needs b, which old data lacks (backward)
    old = avro({"name": "a", "type": "long"}, {"name": "c", "type": "string"})
    new = avro({"name": "a", "type": "int"}, {"name": "b", "type": "int"})
    result = check("AVRO", new, [old], level="FULL")
    assert [(v.direction, v.rule_id) for v in result.violations] == [
        ("FORWARD", "READER_FIELD_MISSING_DEFAULT_VALUE"),
        ("BACKWARD", "TYPE_MISMATCH"),
        ("BACKWARD", "READER_FIELD_MISSING_DEFAULT_VALUE"),
    ]
    assert "cannot read data written with the new schema" in result.messages[0]


def test_non_transitive_levels_ignore_older_versions():
    broken_old = "{"  # never parsed: only the latest previous version is checked
    assert check("AVRO", AVRO_V2, [broken_old, AVRO_V1], level="BACKWARD").compatible
    with pytest.raises(SchemaParseError):
        check("AVRO", AVRO_V2, [broken_old, AVRO_V1], level="BACKWARD_TRANSITIVE")


def test_every_failing_version_is_reported_newest_first():
    new = avro({"name": "a", "type": "string"})
    result = check("AVRO", new, [AVRO_V1, AVRO_V2], level="BACKWARD_TRANSITIVE")
    assert [v.old_version for v in result.violations] == [2, 1]


def test_no_previous_version_is_compatible_but_new_is_still_parsed():
    assert check("json", "{}", []).compatible
    with pytest.raises(SchemaParseError):
        check("json", "{", [])


def test_lower_case_type_and_level_and_explicit_versions():
    result = check("avro", AVRO_V3, [AVRO_V1], level="backward", versions=[7])
    assert result.violations[0].old_version == 7
    assert result.messages[0].endswith("(old version 7)")


@pytest.mark.parametrize("kwargs", [{"level": "SIDEWAYS"}, {"policy": "LAX"}])
def test_unknown_level_or_policy_is_a_config_error(kwargs):
    with pytest.raises(ConfigError):
        check("AVRO", AVRO_V1, [AVRO_V1], **kwargs)


def test_unknown_schema_type_is_a_config_error():
    with pytest.raises(ConfigError):
        check("XML", "<a/>", [])


def test_invalid_json_schema_is_reported_as_invalid():
    with pytest.raises(SchemaParseError) as info:
        check("JSON", '{"type": "strin"}', ['{"type": "string"}'])
    assert "unknown type" in str(info.value)
    with pytest.raises(SchemaParseError) as info:
        check("JSON", '{"$ref": "#/definitions/missing"}', ["{}"])
    assert "unresolved $ref" in str(info.value)
    with pytest.raises(SchemaParseError) as info:
        check("JSON", '{"type": "string",\n "x": }', ["{}"])
    assert "line 2" in str(info.value)
