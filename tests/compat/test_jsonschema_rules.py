"""One case per JSON Schema rule ID: the change is detected, and judged as Confluent does."""
from __future__ import annotations

import pytest

from serde.compat import rules
from tests.compat._helpers import check, emitted, js

S = {"type": "string"}
N = {"type": "number"}
I = {"type": "integer"}


def obj(props=None, **kw):
    return {"type": "object", "properties": props or {}, **kw}


def arr(**kw):
    return {"type": "array", **kw}


# (rule ID, old schema, new schema); BACKWARD: can the new schema accept all old documents
CASES = [
    ("ID_CHANGED", {"$id": "a"}, {"$id": "b"}),
    ("DESCRIPTION_CHANGED", {"description": "a"}, {"description": "b"}),
    ("TITLE_CHANGED", {"title": "a"}, {"title": "b"}),
    ("DEFAULT_CHANGED", {**S, "default": "a"}, {**S, "default": "b"}),
    ("SCHEMA_ADDED", arr(), arr(items=S)),
    ("SCHEMA_REMOVED", arr(items=S), arr()),
    ("TYPE_EXTENDED", I, N),
    ("TYPE_NARROWED", N, I),
    ("TYPE_CHANGED", S, N),
    ("MAX_LENGTH_ADDED", S, {**S, "maxLength": 3}),
    ("MAX_LENGTH_REMOVED", {**S, "maxLength": 3}, S),
    ("MAX_LENGTH_INCREASED", {**S, "maxLength": 3}, {**S, "maxLength": 4}),
    ("MAX_LENGTH_DECREASED", {**S, "maxLength": 3}, {**S, "maxLength": 2}),
    ("MIN_LENGTH_ADDED", S, {**S, "minLength": 3}),
    ("MIN_LENGTH_REMOVED", {**S, "minLength": 3}, S),
    ("MIN_LENGTH_INCREASED", {**S, "minLength": 3}, {**S, "minLength": 4}),
    ("MIN_LENGTH_DECREASED", {**S, "minLength": 3}, {**S, "minLength": 2}),
    ("PATTERN_ADDED", S, {**S, "pattern": "^a"}),
    ("PATTERN_REMOVED", {**S, "pattern": "^a"}, S),
    ("PATTERN_CHANGED", {**S, "pattern": "^a"}, {**S, "pattern": "^b"}),
    ("MAXIMUM_ADDED", N, {**N, "maximum": 3}),
    ("MAXIMUM_REMOVED", {**N, "maximum": 3}, N),
    ("MAXIMUM_INCREASED", {**N, "maximum": 3}, {**N, "maximum": 4}),
    ("MAXIMUM_DECREASED", {**N, "maximum": 3}, {**N, "maximum": 2}),
    ("MINIMUM_ADDED", N, {**N, "minimum": 3}),
    ("MINIMUM_REMOVED", {**N, "minimum": 3}, N),
    ("MINIMUM_INCREASED", {**N, "minimum": 3}, {**N, "minimum": 4}),
    ("MINIMUM_DECREASED", {**N, "minimum": 3}, {**N, "minimum": 2}),
    ("EXCLUSIVE_MAXIMUM_ADDED", N, {**N, "exclusiveMaximum": 3}),
    ("EXCLUSIVE_MAXIMUM_REMOVED", {**N, "exclusiveMaximum": 3}, N),
    ("EXCLUSIVE_MAXIMUM_INCREASED", {**N, "exclusiveMaximum": 3}, {**N, "exclusiveMaximum": 4}),
    ("EXCLUSIVE_MAXIMUM_DECREASED", {**N, "exclusiveMaximum": 3}, {**N, "exclusiveMaximum": 2}),
    ("EXCLUSIVE_MINIMUM_ADDED", N, {**N, "exclusiveMinimum": 3}),
    ("EXCLUSIVE_MINIMUM_REMOVED", {**N, "exclusiveMinimum": 3}, N),
    ("EXCLUSIVE_MINIMUM_INCREASED", {**N, "exclusiveMinimum": 3}, {**N, "exclusiveMinimum": 4}),
    ("EXCLUSIVE_MINIMUM_DECREASED", {**N, "exclusiveMinimum": 3}, {**N, "exclusiveMinimum": 2}),
    ("MULTIPLE_OF_ADDED", N, {**N, "multipleOf": 2}),
    ("MULTIPLE_OF_REMOVED", {**N, "multipleOf": 2}, N),
    ("MULTIPLE_OF_EXPANDED", {**N, "multipleOf": 2}, {**N, "multipleOf": 4}),
    ("MULTIPLE_OF_REDUCED", {**N, "multipleOf": 4}, {**N, "multipleOf": 2}),
    ("MULTIPLE_OF_CHANGED", {**N, "multipleOf": 2}, {**N, "multipleOf": 3}),
    ("REQUIRED_ATTRIBUTE_ADDED", obj({"a": S}), obj({"a": S}, required=["a"])),
    ("REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED", obj({"a": S}), obj({"a": {**S, "default": "x"}}, required=["a"])),
    ("REQUIRED_ATTRIBUTE_REMOVED", obj({"a": S}, required=["a"]), obj({"a": S})),
    ("DEPENDENCY_ARRAY_ADDED", obj(), obj(dependencies={"a": ["b"]})),
    ("DEPENDENCY_ARRAY_EXTENDED", obj(dependencies={"a": ["b"]}), obj(dependencies={"a": ["b", "c"]})),
    ("DEPENDENCY_ARRAY_NARROWED", obj(dependencies={"a": ["b", "c"]}), obj(dependencies={"a": ["b"]})),
    ("DEPENDENCY_ARRAY_CHANGED", obj(dependencies={"a": ["b"]}), obj(dependencies={"a": ["c"]})),
    ("DEPENDENCY_ARRAY_REMOVED", obj(dependencies={"a": ["b"]}), obj()),
    ("DEPENDENCY_SCHEMA_ADDED", obj(), obj(dependencies={"a": obj({"b": S})})),
    ("DEPENDENCY_SCHEMA_REMOVED", obj(dependencies={"a": obj({"b": S})}), obj()),
    ("MAX_PROPERTIES_ADDED", obj(), obj(maxProperties=3)),
    ("MAX_PROPERTIES_REMOVED", obj(maxProperties=3), obj()),
    ("MAX_PROPERTIES_INCREASED", obj(maxProperties=3), obj(maxProperties=4)),
    ("MAX_PROPERTIES_DECREASED", obj(maxProperties=3), obj(maxProperties=2)),
    ("MIN_PROPERTIES_ADDED", obj(), obj(minProperties=3)),
    ("MIN_PROPERTIES_REMOVED", obj(minProperties=3), obj()),
    ("MIN_PROPERTIES_INCREASED", obj(minProperties=3), obj(minProperties=4)),
    ("MIN_PROPERTIES_DECREASED", obj(minProperties=3), obj(minProperties=2)),
    ("ADDITIONAL_PROPERTIES_ADDED", obj(additionalProperties=False), obj()),
    ("ADDITIONAL_PROPERTIES_REMOVED", obj(), obj(additionalProperties=False)),
    ("ADDITIONAL_PROPERTIES_EXTENDED", obj(additionalProperties=S), obj()),
    ("ADDITIONAL_PROPERTIES_NARROWED", obj(), obj(additionalProperties=S)),
    ("UNEVALUATED_PROPERTIES_ADDED", obj(unevaluatedProperties=False), obj()),
    ("UNEVALUATED_PROPERTIES_REMOVED", obj(), obj(unevaluatedProperties=False)),
    ("UNEVALUATED_PROPERTIES_EXTENDED", obj(unevaluatedProperties=S), obj()),
    ("UNEVALUATED_PROPERTIES_NARROWED", obj(), obj(unevaluatedProperties=S)),
    ("REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", obj(), obj({"a": S}, required=["a"])),
    ("REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL", obj(), obj({"a": {**S, "default": "x"}}, required=["a"])),
    ("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", obj(), obj({"a": S})),
    ("PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL", obj(), obj({"a": {}})),
    ("REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", obj(additionalProperties=False), obj({"a": S}, required=["a"], additionalProperties=False)),
    ("REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL", obj(additionalProperties=False), obj({"a": {**S, "default": "x"}}, required=["a"], additionalProperties=False)),
    ("OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", obj(additionalProperties=False), obj({"a": S}, additionalProperties=False)),
    ("PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL", obj({"a": S}), obj()),
    ("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", obj({"a": S}, additionalProperties=False), obj(additionalProperties=False)),
    ("PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL", obj({"a": False}, additionalProperties=False), obj(additionalProperties=False)),
    ("PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", obj(additionalProperties=I), obj({"a": N}, additionalProperties=I)),
    ("PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", obj(additionalProperties=N), obj({"a": S}, additionalProperties=N)),
    ("PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", obj({"a": I}, additionalProperties=False), obj(patternProperties={"^a": N})),
    ("PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", obj({"a": S}, additionalProperties=False), obj(additionalProperties=N)),
    ("MAX_ITEMS_ADDED", arr(), arr(maxItems=3)),
    ("MAX_ITEMS_REMOVED", arr(maxItems=3), arr()),
    ("MAX_ITEMS_INCREASED", arr(maxItems=3), arr(maxItems=4)),
    ("MAX_ITEMS_DECREASED", arr(maxItems=3), arr(maxItems=2)),
    ("MIN_ITEMS_ADDED", arr(), arr(minItems=3)),
    ("MIN_ITEMS_REMOVED", arr(minItems=3), arr()),
    ("MIN_ITEMS_INCREASED", arr(minItems=3), arr(minItems=4)),
    ("MIN_ITEMS_DECREASED", arr(minItems=3), arr(minItems=2)),
    ("UNIQUE_ITEMS_ADDED", arr(), arr(uniqueItems=True)),
    ("UNIQUE_ITEMS_REMOVED", arr(uniqueItems=True), arr()),
    ("ADDITIONAL_ITEMS_ADDED", arr(items=[S], additionalItems=False), arr(items=[S])),
    ("ADDITIONAL_ITEMS_REMOVED", arr(items=[S]), arr(items=[S], additionalItems=False)),
    ("ADDITIONAL_ITEMS_EXTENDED", arr(items=[S], additionalItems=N), arr(items=[S])),
    ("ADDITIONAL_ITEMS_NARROWED", arr(items=[S]), arr(items=[S], additionalItems=N)),
    ("UNEVALUATED_ITEMS_ADDED", arr(unevaluatedItems=False), arr()),
    ("UNEVALUATED_ITEMS_REMOVED", arr(), arr(unevaluatedItems=False)),
    ("UNEVALUATED_ITEMS_EXTENDED", arr(unevaluatedItems=S), arr()),
    ("UNEVALUATED_ITEMS_NARROWED", arr(), arr(unevaluatedItems=S)),
    ("ITEM_ADDED_TO_OPEN_CONTENT_MODEL", arr(items=[S]), arr(items=[S, N])),
    ("ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL", arr(items=[S]), arr(items=[S, {}])),
    ("ITEM_ADDED_TO_CLOSED_CONTENT_MODEL", arr(items=[S], additionalItems=False), arr(items=[S, N], additionalItems=False)),
    ("ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL", arr(items=[S, N]), arr(items=[S])),
    ("ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL", arr(items=[S, N], additionalItems=False), arr(items=[S], additionalItems=False)),
    ("ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL", arr(items=[S, False], additionalItems=False), arr(items=[S], additionalItems=False)),
    ("ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", arr(items=[S], additionalItems=I), arr(items=[S, N], additionalItems=I)),
    ("ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", arr(items=[S], additionalItems=N), arr(items=[S, S], additionalItems=N)),
    ("ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", arr(items=[S, I], additionalItems=False), arr(items=[S], additionalItems=N)),
    ("ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", arr(items=[S, S], additionalItems=False), arr(items=[S], additionalItems=N)),
    ("ENUM_ARRAY_EXTENDED", {"enum": ["a"]}, {"enum": ["a", "b"]}),
    ("ENUM_ARRAY_NARROWED", {"enum": ["a", "b"]}, {"enum": ["a"]}),
    ("ENUM_ARRAY_CHANGED", {"enum": ["a"]}, {"enum": ["b"]}),
    ("COMBINED_TYPE_EXTENDED", {"oneOf": [S, N]}, {"anyOf": [S, N]}),
    ("COMBINED_TYPE_CHANGED", {"anyOf": [S, N]}, {"oneOf": [S, N]}),
    ("COMBINED_TYPE_SUBSCHEMAS_CHANGED", {"anyOf": [S, N]}, {"anyOf": [S, {"type": "boolean"}]}),
    ("SUM_TYPE_EXTENDED", {"anyOf": [S, N]}, {"anyOf": [S, N, {"type": "null"}]}),
    ("SUM_TYPE_NARROWED", {"anyOf": [S, N]}, {"anyOf": [S]}),
    ("PRODUCT_TYPE_EXTENDED", {"allOf": [S]}, {"allOf": [S, {"maxLength": 3}]}),
    ("PRODUCT_TYPE_NARROWED", {"allOf": [S, {"maxLength": 3}]}, {"allOf": [S]}),
    ("NOT_TYPE_EXTENDED", {"not": S}, {"not": {"type": ["string", "number"]}}),
    ("NOT_TYPE_NARROWED", {"not": {"type": ["string", "number"]}}, {"not": S}),
]

RULES = {rule.id: rule for rule in rules("json")}


@pytest.mark.parametrize(("rule_id", "old", "new"), CASES, ids=[c[0] for c in CASES])
def test_rule_is_detected_and_judged(rule_id, old, new):
    assert rule_id in emitted("JSON", js(old), js(new))
    rule = RULES[rule_id]
    result = check("JSON", js(new), [js(old)])
    if rule.compatible:
        assert result.compatible, result.messages
    else:
        assert not result.compatible
        assert any(m.startswith(rule_id + " ") for m in result.messages), result.messages
    lenient = check("JSON", js(new), [js(old)], policy="LENIENT")
    flagged_lenient = any(m.startswith(rule_id + " ") for m in lenient.messages)
    assert flagged_lenient is not rule.allowed("LENIENT")


def test_every_live_rule_has_a_case():
    covered = {c[0] for c in CASES}
    live = {r.id for r in RULES.values() if not r.replaced_by}
    assert live - covered == set()


def test_lenient_accepts_optional_property_added_to_open_model():
    old, new = js(obj({"a": S})), js(obj({"a": S, "b": N}))
    strict = check("JSON", new, [old])
    assert not strict.compatible
    assert strict.messages == [
        "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b: property 'b' added to an "
        "open content model (the old schema accepted any value for it) (old version 1)"
    ]
    assert check("JSON", new, [old], policy="LENIENT").compatible


def test_message_names_rule_location_and_version():
    old = js(obj({"age": I}, additionalProperties=False))
    new = js(obj(additionalProperties=False))
    result = check("JSON", new, [js(obj()), old], level="BACKWARD")
    assert result.messages == [
        "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/age: property 'age' removed "
        "from a closed content model (old version 2)"
    ]
    violation = result.violations[0]
    assert (violation.rule_id, violation.new_path, violation.old_version, violation.direction) == (
        "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", "#/properties/age", 2, "BACKWARD")


def test_refs_are_dereferenced_locally_and_across_references():
    old = js({"definitions": {"a": S}, "type": "object", "properties": {"x": {"$ref": "#/definitions/a"}}})
    new = (js({"type": "object", "properties": {"x": {"$ref": "other.json#/definitions/a"}}}),
           {"other.json": js({"definitions": {"a": N}})})
    result = check("JSON", new, [old])
    assert not result.compatible
    assert result.messages[0].startswith("TYPE_CHANGED #/properties/x")


def test_recursive_schema_terminates():
    tree = js({"type": "object", "properties": {"child": {"$ref": "#"}, "v": S}})
    assert check("JSON", tree, [tree]).compatible


def test_draft_2020_prefix_items_are_the_tuple():
    old = js({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "array",
              "prefixItems": [S], "items": False})
    new = js({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "array",
              "prefixItems": [S, N], "items": False})
    assert "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL" in emitted("JSON", old, new)
    assert check("JSON", new, [old]).compatible
