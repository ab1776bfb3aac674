"""JSON Schema compatibility rules with Confluent Schema Registry's semantics.

BACKWARD means every document valid under the old schema is valid under the new one, which
is Confluent's ``SchemaDiff.compare(original=old, update=new)``; FORWARD swaps the two.
Each kind of change is a rule whose ID is Confluent's ``Difference.Type`` name, so a verdict
here maps one-to-one onto the registry's. The walk loads the raw JSON into the same typed
nodes the registry's loader (everit) builds, because Confluent's verdicts depend on that
shape: ``{"type": "string", "enum": [...]}`` is an ``allOf`` of two schemas, a ``type`` list
is an ``anyOf``, and a schema without ``type`` is typed by the keywords it uses.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from collections.abc import Mapping

from serde._errors import SchemaParseError
from serde.compat._types import Change, Rule

__all__ = ["RULES", "SCHEMA_TYPE", "changes", "parse"]

SCHEMA_TYPE = "JSON"


def _r(rule_id: str, compatible: bool, purpose: str, describe: str, lenient: bool | None = None,
       replaced_by: str | None = None) -> Rule:
    return Rule(rule_id, SCHEMA_TYPE, purpose, compatible, describe, lenient, replaced_by)


# One row per Confluent Difference.Type: (ID, compatible under STRICT, purpose, message).
# LENIENT adds nine more compatible changes, marked with lenient=True.
RULES: tuple[Rule, ...] = (
    _r("ID_CHANGED", True, "Checks that a changed $id is accepted (it does not constrain data).", "$id changed"),
    _r("DESCRIPTION_CHANGED", True, "Checks that a changed description is accepted.", "description changed"),
    _r("TITLE_CHANGED", True, "Checks that a changed title is accepted.", "title changed"),
    _r("DEFAULT_CHANGED", True, "Checks that a changed default is accepted.", "default changed"),
    _r("SCHEMA_ADDED", False, "Checks that no subschema is added where any value was allowed.", "subschema added where any value was allowed"),
    _r("SCHEMA_REMOVED", True, "Checks that removing a subschema is accepted (it only relaxes).", "subschema removed"),
    _r("TYPE_EXTENDED", True, "Checks that widening a type (integer to number) is accepted.", "type widened"),
    _r("TYPE_NARROWED", False, "Checks that a type is not narrowed (number to integer).", "type narrowed (number to integer)"),
    _r("TYPE_CHANGED", False, "Checks that the type of a schema does not change.", "type changed"),
    _r("MAX_LENGTH_ADDED", False, "Checks that no maxLength is added.", "maxLength added"),
    _r("MAX_LENGTH_REMOVED", True, "Checks that removing maxLength is accepted.", "maxLength removed"),
    _r("MAX_LENGTH_INCREASED", True, "Checks that increasing maxLength is accepted.", "maxLength increased"),
    _r("MAX_LENGTH_DECREASED", False, "Checks that maxLength is not decreased.", "maxLength decreased"),
    _r("MIN_LENGTH_ADDED", False, "Checks that no minLength is added.", "minLength added"),
    _r("MIN_LENGTH_REMOVED", True, "Checks that removing minLength is accepted.", "minLength removed"),
    _r("MIN_LENGTH_INCREASED", False, "Checks that minLength is not increased.", "minLength increased"),
    _r("MIN_LENGTH_DECREASED", True, "Checks that decreasing minLength is accepted.", "minLength decreased"),
    _r("PATTERN_ADDED", False, "Checks that no pattern is added to a string.", "pattern added"),
    _r("PATTERN_REMOVED", True, "Checks that removing a pattern is accepted.", "pattern removed"),
    _r("PATTERN_CHANGED", False, "Checks that a string's pattern does not change.", "pattern changed"),
    _r("MAXIMUM_ADDED", False, "Checks that no maximum is added.", "maximum added"),
    _r("MAXIMUM_REMOVED", True, "Checks that removing a maximum is accepted.", "maximum removed"),
    _r("MAXIMUM_INCREASED", True, "Checks that increasing a maximum is accepted.", "maximum increased"),
    _r("MAXIMUM_DECREASED", False, "Checks that a maximum is not decreased.", "maximum decreased"),
    _r("MINIMUM_ADDED", False, "Checks that no minimum is added.", "minimum added"),
    _r("MINIMUM_REMOVED", True, "Checks that removing a minimum is accepted.", "minimum removed"),
    _r("MINIMUM_INCREASED", False, "Checks that a minimum is not increased.", "minimum increased"),
    _r("MINIMUM_DECREASED", True, "Checks that decreasing a minimum is accepted.", "minimum decreased"),
    _r("EXCLUSIVE_MAXIMUM_ADDED", False, "Checks that no exclusiveMaximum is added.", "exclusiveMaximum added"),
    _r("EXCLUSIVE_MAXIMUM_REMOVED", True, "Checks that removing exclusiveMaximum is accepted.", "exclusiveMaximum removed"),
    _r("EXCLUSIVE_MAXIMUM_INCREASED", True, "Checks that increasing exclusiveMaximum is accepted.", "exclusiveMaximum increased"),
    _r("EXCLUSIVE_MAXIMUM_DECREASED", False, "Checks that exclusiveMaximum is not decreased.", "exclusiveMaximum decreased"),
    _r("EXCLUSIVE_MINIMUM_ADDED", False, "Checks that no exclusiveMinimum is added.", "exclusiveMinimum added"),
    _r("EXCLUSIVE_MINIMUM_REMOVED", True, "Checks that removing exclusiveMinimum is accepted.", "exclusiveMinimum removed"),
    _r("EXCLUSIVE_MINIMUM_INCREASED", False, "Checks that exclusiveMinimum is not increased.", "exclusiveMinimum increased"),
    _r("EXCLUSIVE_MINIMUM_DECREASED", True, "Checks that decreasing exclusiveMinimum is accepted.", "exclusiveMinimum decreased"),
    _r("MULTIPLE_OF_ADDED", False, "Checks that no multipleOf is added.", "multipleOf added"),
    _r("MULTIPLE_OF_REMOVED", True, "Checks that removing multipleOf is accepted.", "multipleOf removed"),
    _r("MULTIPLE_OF_EXPANDED", False, "Checks that multipleOf is not changed to a multiple of itself.", "multipleOf expanded to a multiple of the old value"),
    _r("MULTIPLE_OF_REDUCED", True, "Checks that changing multipleOf to a divisor of itself is accepted.", "multipleOf reduced to a divisor of the old value"),
    _r("MULTIPLE_OF_CHANGED", False, "Checks that multipleOf does not change to an unrelated value.", "multipleOf changed"),
    _r("REQUIRED_ATTRIBUTE_ADDED", False, "Checks that an existing property does not become required.", "property '{name}' became required"),
    _r("REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED", True, "Checks that an existing property with a default may become required.", "property '{name}' became required (it has a default)"),
    _r("REQUIRED_ATTRIBUTE_REMOVED", True, "Checks that a property may stop being required.", "property '{name}' is no longer required"),
    _r("DEPENDENCY_ARRAY_ADDED", False, "Checks that no property dependency is added.", "property dependency '{name}' added"),
    _r("DEPENDENCY_ARRAY_EXTENDED", False, "Checks that a property dependency does not require more properties.", "property dependency '{name}' extended"),
    _r("DEPENDENCY_ARRAY_NARROWED", True, "Checks that a property dependency may require fewer properties.", "property dependency '{name}' narrowed"),
    _r("DEPENDENCY_ARRAY_CHANGED", False, "Checks that a property dependency does not change.", "property dependency '{name}' changed"),
    _r("DEPENDENCY_ARRAY_REMOVED", True, "Checks that removing a property dependency is accepted.", "property dependency '{name}' removed"),
    _r("DEPENDENCY_SCHEMA_ADDED", False, "Checks that no schema dependency is added.", "schema dependency '{name}' added"),
    _r("DEPENDENCY_SCHEMA_REMOVED", True, "Checks that removing a schema dependency is accepted.", "schema dependency '{name}' removed"),
    _r("MAX_PROPERTIES_ADDED", False, "Checks that no maxProperties is added.", "maxProperties added"),
    _r("MAX_PROPERTIES_REMOVED", True, "Checks that removing maxProperties is accepted.", "maxProperties removed"),
    _r("MAX_PROPERTIES_INCREASED", True, "Checks that increasing maxProperties is accepted.", "maxProperties increased"),
    _r("MAX_PROPERTIES_DECREASED", False, "Checks that maxProperties is not decreased.", "maxProperties decreased"),
    _r("MIN_PROPERTIES_ADDED", False, "Checks that no minProperties is added.", "minProperties added"),
    _r("MIN_PROPERTIES_REMOVED", True, "Checks that removing minProperties is accepted.", "minProperties removed"),
    _r("MIN_PROPERTIES_INCREASED", False, "Checks that minProperties is not increased.", "minProperties increased"),
    _r("MIN_PROPERTIES_DECREASED", True, "Checks that decreasing minProperties is accepted.", "minProperties decreased"),
    _r("ADDITIONAL_PROPERTIES_ADDED", True, "Checks that allowing additional properties is accepted.", "additional properties now allowed"),
    _r("ADDITIONAL_PROPERTIES_REMOVED", False, "Checks that additional properties stay allowed.", "additional properties no longer allowed", lenient=True),
    _r("ADDITIONAL_PROPERTIES_EXTENDED", True, "Checks that dropping the additionalProperties schema is accepted.", "additionalProperties schema removed (any value allowed)"),
    _r("ADDITIONAL_PROPERTIES_NARROWED", False, "Checks that no schema is imposed on additional properties.", "additionalProperties now constrained by a schema", lenient=True),
    _r("UNEVALUATED_PROPERTIES_ADDED", True, "Checks that allowing unevaluated properties is accepted.", "unevaluated properties now allowed"),
    _r("UNEVALUATED_PROPERTIES_REMOVED", False, "Checks that unevaluated properties stay allowed.", "unevaluated properties no longer allowed", lenient=True),
    _r("UNEVALUATED_PROPERTIES_EXTENDED", True, "Checks that dropping the unevaluatedProperties schema is accepted.", "unevaluatedProperties schema removed"),
    _r("UNEVALUATED_PROPERTIES_NARROWED", False, "Checks that no schema is imposed on unevaluated properties.", "unevaluatedProperties now constrained by a schema", lenient=True),
    _r("PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", False, "Retired (Confluent 7.x): a property added to an open content model.", "property '{name}' added to an open content model", replaced_by="OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"),
    _r("REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", False, "Checks that no required property is added to an open content model.", "required property '{name}' added to an open content model (old data may lack it or hold any value)"),
    _r("REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL", False, "Checks that no required property with a default is added to an open content model.", "required property '{name}' (with default) added to an open content model", lenient=True),
    _r("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", False, "Checks that no constrained property is added to an open content model, whose old version accepted any value there.", "property '{name}' added to an open content model (the old schema accepted any value for it)", lenient=True),
    _r("PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL", True, "Checks that a property with an empty schema may be added to an open content model.", "property '{name}' with an empty schema added to an open content model"),
    _r("REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", False, "Checks that no required property without default is added to a closed or partially open content model.", "required property '{name}' without a default added"),
    _r("REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL", True, "Checks that a required property with a default may be added to a closed or partially open content model.", "required property '{name}' with a default added"),
    _r("OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", True, "Checks that an optional property may be added to a closed or partially open content model.", "optional property '{name}' added"),
    _r("PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL", True, "Checks that a property may be removed when the new content model is open.", "property '{name}' removed from an open content model"),
    _r("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", False, "Checks that no property is removed from a closed content model.", "property '{name}' removed from a closed content model", lenient=True),
    _r("PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL", True, "Checks that a property whose schema was false may be removed from a closed content model.", "property '{name}' (schema false) removed from a closed content model"),
    _r("PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", True, "Checks that an added property refining the matching pattern/additional schema is accepted.", "property '{name}' added, covered by the partially open content model"),
    _r("PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", False, "Checks that an added property is compatible with the pattern/additional schema that covered it.", "property '{name}' added, not compatible with the pattern/additional schema that covered it", lenient=True),
    _r("PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", True, "Checks that a removed property covered by the new pattern/additional schema is accepted.", "property '{name}' removed, covered by the partially open content model"),
    _r("PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", False, "Checks that a removed property stays compatible with the pattern/additional schema now covering it.", "property '{name}' removed, not compatible with the pattern/additional schema now covering it", lenient=True),
    _r("MAX_ITEMS_ADDED", False, "Checks that no maxItems is added.", "maxItems added"),
    _r("MAX_ITEMS_REMOVED", True, "Checks that removing maxItems is accepted.", "maxItems removed"),
    _r("MAX_ITEMS_INCREASED", True, "Checks that increasing maxItems is accepted.", "maxItems increased"),
    _r("MAX_ITEMS_DECREASED", False, "Checks that maxItems is not decreased.", "maxItems decreased"),
    _r("MIN_ITEMS_ADDED", False, "Checks that no minItems is added.", "minItems added"),
    _r("MIN_ITEMS_REMOVED", True, "Checks that removing minItems is accepted.", "minItems removed"),
    _r("MIN_ITEMS_INCREASED", False, "Checks that minItems is not increased.", "minItems increased"),
    _r("MIN_ITEMS_DECREASED", True, "Checks that decreasing minItems is accepted.", "minItems decreased"),
    _r("UNIQUE_ITEMS_ADDED", False, "Checks that uniqueItems is not added.", "uniqueItems added"),
    _r("UNIQUE_ITEMS_REMOVED", True, "Checks that removing uniqueItems is accepted.", "uniqueItems removed"),
    _r("ADDITIONAL_ITEMS_ADDED", True, "Checks that allowing additional items is accepted.", "additional items now allowed"),
    _r("ADDITIONAL_ITEMS_REMOVED", False, "Checks that additional items stay allowed.", "additional items no longer allowed"),
    _r("ADDITIONAL_ITEMS_EXTENDED", True, "Checks that dropping the additionalItems schema is accepted.", "additionalItems schema removed"),
    _r("ADDITIONAL_ITEMS_NARROWED", False, "Checks that no schema is imposed on additional items.", "additionalItems now constrained by a schema"),
    _r("UNEVALUATED_ITEMS_ADDED", True, "Checks that allowing unevaluated items is accepted.", "unevaluated items now allowed"),
    _r("UNEVALUATED_ITEMS_REMOVED", False, "Checks that unevaluated items stay allowed.", "unevaluated items no longer allowed"),
    _r("UNEVALUATED_ITEMS_EXTENDED", True, "Checks that dropping the unevaluatedItems schema is accepted.", "unevaluatedItems schema removed"),
    _r("UNEVALUATED_ITEMS_NARROWED", False, "Checks that no schema is imposed on unevaluated items.", "unevaluatedItems now constrained by a schema"),
    _r("ITEM_ADDED_TO_OPEN_CONTENT_MODEL", False, "Checks that no constrained tuple item is added where any item was allowed.", "tuple item {name} added to an open content model"),
    _r("ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL", True, "Checks that a tuple item with an empty schema may be added to an open array.", "tuple item {name} with an empty schema added"),
    _r("ITEM_ADDED_TO_CLOSED_CONTENT_MODEL", True, "Checks that a tuple item may be added to a closed array.", "tuple item {name} added to a closed content model"),
    _r("ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL", True, "Checks that a tuple item may be removed when the new array is open.", "tuple item {name} removed from an open content model"),
    _r("ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL", False, "Checks that no tuple item is removed from a closed array.", "tuple item {name} removed from a closed content model"),
    _r("ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL", True, "Checks that a tuple item whose schema was false may be removed.", "tuple item {name} (schema false) removed"),
    _r("ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", True, "Checks that an added tuple item refining additionalItems is accepted.", "tuple item {name} added, covered by additionalItems"),
    _r("ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", False, "Checks that an added tuple item is compatible with the additionalItems schema that covered it.", "tuple item {name} added, not compatible with additionalItems"),
    _r("ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", True, "Checks that a removed tuple item covered by the new additionalItems is accepted.", "tuple item {name} removed, covered by additionalItems"),
    _r("ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", False, "Checks that a removed tuple item stays compatible with the new additionalItems.", "tuple item {name} removed, not compatible with additionalItems"),
    _r("ENUM_ARRAY_EXTENDED", True, "Checks that adding enum values is accepted.", "enum values added"),
    _r("ENUM_ARRAY_NARROWED", False, "Checks that no enum value is removed.", "enum values removed"),
    _r("ENUM_ARRAY_CHANGED", False, "Checks that enum/const values are not replaced.", "enum/const values changed"),
    _r("COMBINED_TYPE_EXTENDED", True, "Checks that relaxing a combination keyword (e.g. to anyOf) is accepted.", "combination keyword relaxed"),
    _r("COMBINED_TYPE_CHANGED", False, "Checks that a combination keyword (allOf/anyOf/oneOf) is not tightened.", "combination keyword changed"),
    _r("COMBINED_TYPE_SUBSCHEMAS_CHANGED", False, "Checks that every subschema of a combination still has a compatible counterpart.", "subschemas of the combination changed incompatibly"),
    _r("SUM_TYPE_EXTENDED", True, "Checks that adding anyOf/oneOf alternatives is accepted.", "alternatives added to anyOf/oneOf"),
    _r("SUM_TYPE_NARROWED", False, "Checks that no anyOf/oneOf alternative is removed.", "alternatives removed from anyOf/oneOf"),
    _r("PRODUCT_TYPE_EXTENDED", False, "Checks that no allOf subschema is added.", "subschemas added to allOf"),
    _r("PRODUCT_TYPE_NARROWED", True, "Checks that removing allOf subschemas is accepted.", "subschemas removed from allOf"),
    _r("NOT_TYPE_EXTENDED", False, "Checks that a 'not' schema does not exclude more values.", "'not' now excludes more values"),
    _r("NOT_TYPE_NARROWED", True, "Checks that a 'not' schema excluding fewer values is accepted.", "'not' excludes fewer values"),
)

# ---------------------------------------------------------------------------------------
# Loading: raw JSON → typed nodes shaped like the registry's (everit) schema objects.

_ARRAY_KEYWORDS = ("items", "additionalItems", "minItems", "maxItems", "uniqueItems", "contains",
                   "prefixItems", "unevaluatedItems")
_OBJECT_KEYWORDS = ("properties", "required", "minProperties", "maxProperties", "dependencies",
                    "patternProperties", "additionalProperties", "propertyNames",
                    "dependentRequired", "dependentSchemas", "unevaluatedProperties")
_NUMBER_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_STRING_KEYWORDS = ("minLength", "maxLength", "pattern", "format")
_TYPES = ("string", "number", "integer", "object", "array", "boolean", "null")
_COMBINERS = ("allOf", "anyOf", "oneOf")


class _Node:
    """One schema. ``kind`` plays the role of everit's class; attributes depend on it."""

    def __init__(self, kind: str, raw: object, key: str, loader: "_Loader") -> None:
        self.kind = kind
        self.raw = raw
        self.key = key  # canonical identity, used to collapse duplicate subschemas
        self.loader = loader
        meta = raw if isinstance(raw, dict) else {}
        self.id = meta.get("$id", meta.get("id") if isinstance(meta.get("id"), str) else None)
        self.title = meta.get("title")
        self.description = meta.get("description")
        self.has_default = "default" in meta
        self.default = _canon(meta.get("default")) if self.has_default else None


class _Loader:
    """Builds nodes for one schema document and the documents it references."""

    def __init__(self, root: object, references: Mapping[str, object]) -> None:
        self.root = root
        self.references = dict(references)
        self.cache: dict[tuple[int, str], _Node] = {}
        self.draft2020 = isinstance(root, dict) and any(
            d in str(root.get("$schema", "")) for d in ("2019-09", "2020-12"))

    def load(self, raw: object, doc: object) -> _Node:
        key = (id(raw), "")
        node = self.cache.get(key)
        if node is None:
            node = self._build(raw, doc)
            self.cache[key] = node
        return node

    def _build(self, raw: object, doc: object) -> _Node:
        if raw is True or raw is False:
            return _Node("true" if raw else "false", raw, _canon(raw), self)
        if not isinstance(raw, dict):
            raise SchemaParseError(f"a schema must be an object or a boolean, got {_canon(raw)}")
        parts: list[_Node] = []
        if "type" in raw:
            types = raw["type"]
            if isinstance(types, str):
                parts.append(self._typed(types, raw, doc, explicit=True))
            elif isinstance(types, list) and types:
                typed = [self._typed(t, raw, doc, explicit=True) for t in types]
                parts.append(typed[0] if len(typed) == 1 else self._combined("anyOf", typed, raw))
            else:
                raise SchemaParseError(f"invalid 'type': {_canon(types)}")
        else:
            for family, keywords in (("array", _ARRAY_KEYWORDS), ("object", _OBJECT_KEYWORDS),
                                     ("number", _NUMBER_KEYWORDS), ("string", _STRING_KEYWORDS)):
                if any(k in raw for k in keywords):
                    parts.append(self._typed(family, raw, doc, explicit=False))
        if "enum" in raw:
            if not isinstance(raw["enum"], list):
                raise SchemaParseError("'enum' must be an array")
            node = _Node("enum", raw, _canon({"enum": raw["enum"]}), self)
            node.values = frozenset(_canon(v) for v in raw["enum"])
            parts.append(node)
        if "const" in raw:
            node = _Node("const", raw, _canon({"const": raw["const"]}), self)
            node.value = _canon(raw["const"])
            parts.append(node)
        for criterion in _COMBINERS:
            if criterion in raw:
                subs = raw[criterion]
                if not isinstance(subs, list) or not subs:
                    raise SchemaParseError(f"'{criterion}' must be a non-empty array")
                parts.append(self._combined(criterion, [self.load(s, doc) for s in subs],
                                            {criterion: subs}))
        if "not" in raw:
            node = _Node("not", raw, _canon({"not": raw["not"]}), self)
            node.not_schema = self.load(raw["not"], doc)
            parts.append(node)
        if "$ref" in raw:
            if not isinstance(raw["$ref"], str):
                raise SchemaParseError("'$ref' must be a string")
            node = _Node("ref", raw, _canon({"$ref": raw["$ref"]}), self)
            node.ref, node.target = raw["$ref"], None
            # locate the target now, so a dangling reference is an invalid schema; build its
            # node lazily, because a recursive schema refers to a node still being built
            node.target_raw, node.target_doc = self._locate(raw["$ref"], doc)
            parts.append(node)
        if not parts:
            return _Node("empty", raw, _canon(raw), self)
        if len(parts) == 1:
            node = parts[0]
            if node.raw is not raw:  # keep the outer schema's title/description/default
                node = _copy_meta(node, raw)
            return node
        return self._combined("allOf", parts, raw)

    def _combined(self, criterion: str, subs: list[_Node], raw: object) -> _Node:
        node = _Node("combined", raw, _canon(raw), self)
        node.criterion = criterion
        node.subschemas = subs
        return node

    def _typed(self, type_name: str, raw: dict, doc: object, explicit: bool) -> _Node:
        if type_name not in _TYPES:
            raise SchemaParseError(f"unknown type {type_name!r}")
        key = _canon({**raw, "type": type_name})
        if type_name in ("boolean", "null"):
            return _Node(type_name, raw, key, self)
        if type_name in ("number", "integer"):
            node = _Node("number", raw, key, self)
            node.integer = type_name == "integer"
            for k in _NUMBER_KEYWORDS:
                value = raw.get(k)
                if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                    # draft-04 boolean exclusiveMaximum/Minimum modify maximum/minimum
                    value = None if isinstance(value, bool) else _bad(k, value)
                setattr(node, k, value)
            return node
        if type_name == "string":
            node = _Node("string", raw, key, self)
            node.minLength, node.maxLength = raw.get("minLength"), raw.get("maxLength")
            node.pattern = raw.get("pattern")
            if node.pattern is not None:
                try:
                    re.compile(node.pattern)
                except re.error as exc:
                    raise SchemaParseError(f"invalid pattern {node.pattern!r}: {exc}") from exc
            return node
        if type_name == "object":
            return self._object(raw, doc, key)
        return self._array(raw, doc, key)

    def _object(self, raw: dict, doc: object, key: str) -> _Node:
        node = _Node("object", raw, key, self)
        props = raw.get("properties", {})
        if not isinstance(props, dict):
            raise SchemaParseError("'properties' must be an object")
        node.properties = {k: self.load(v, doc) for k, v in props.items()}
        node.required = set(raw.get("required", []) or [])
        patterns = raw.get("patternProperties", {}) or {}
        node.pattern_properties = {}
        for pattern, sub in patterns.items():
            try:
                node.pattern_properties[re.compile(pattern)] = self.load(sub, doc)
            except re.error as exc:
                raise SchemaParseError(f"invalid patternProperties regex {pattern!r}: {exc}") from exc
        node.additional = self._open_slot(raw, "additionalProperties", doc)
        node.unevaluated = self._open_slot(raw, "unevaluatedProperties", doc)
        node.property_deps, node.schema_deps = {}, {}
        for dep_key, dep in {**raw.get("dependencies", {}), **raw.get("dependentRequired", {}),
                             **raw.get("dependentSchemas", {})}.items():
            if isinstance(dep, list):
                node.property_deps[dep_key] = frozenset(dep)
            else:
                node.schema_deps[dep_key] = self.load(dep, doc)
        node.minProperties, node.maxProperties = raw.get("minProperties"), raw.get("maxProperties")
        return node

    def _array(self, raw: dict, doc: object, key: str) -> _Node:
        node = _Node("array", raw, key, self)
        items = raw.get("items")
        node.all_items, node.item_schemas = None, None
        extra_key = "additionalItems"
        if "prefixItems" in raw:  # 2020-12: prefixItems is the tuple, items the rest
            node.item_schemas = [self.load(s, doc) for s in raw["prefixItems"]]
            extra_key = "items"
        elif isinstance(items, list):
            node.item_schemas = [self.load(s, doc) for s in items]
        elif items is not None:
            node.all_items = self.load(items, doc)
        node.additional_items = self._open_slot(raw, extra_key, doc) if node.item_schemas is not None \
            else self._open_slot(raw, "additionalItems", doc)
        node.unevaluated_items = self._open_slot(raw, "unevaluatedItems", doc)
        node.minItems, node.maxItems = raw.get("minItems"), raw.get("maxItems")
        node.uniqueItems = bool(raw.get("uniqueItems", False))
        return node

    def _open_slot(self, raw: dict, keyword: str, doc: object) -> tuple[bool, _Node | None, bool]:
        """(permits, schema or None, present) for additionalProperties-like keywords."""
        if keyword not in raw or raw[keyword] is True:
            return True, None, keyword in raw
        if raw[keyword] is False:
            return False, None, True
        return True, self.load(raw[keyword], doc), True

    # --- $ref resolution -----------------------------------------------------------------
    def resolve(self, node: _Node) -> _Node:
        if node.target is None:
            node.target = self.load(node.target_raw, node.target_doc)
        return node.target

    def _locate(self, ref: str, doc: object) -> tuple[object, object]:
        base, _, fragment = ref.partition("#")
        if base:
            doc = self._document(base)
        return _pointer(doc, fragment, ref), doc

    def _document(self, base: str) -> object:
        if base in self.references:
            return self.references[base]
        for candidate in [self.root, *self.references.values()]:
            if isinstance(candidate, dict) and candidate.get("$id") in (base,):
                return candidate
        for name, candidate in self.references.items():  # "$ref": "https://x/y/name.json"
            if base.endswith("/" + name) or (isinstance(candidate, dict)
                                             and str(candidate.get("$id", "")).endswith(base)):
                return candidate
        raise SchemaParseError(f"unresolved $ref {base!r}: no reference of that name")


def _copy_meta(node: _Node, raw: dict) -> _Node:
    for attr, keyword in (("title", "title"), ("description", "description")):
        if getattr(node, attr) is None and keyword in raw:
            setattr(node, attr, raw[keyword])
    if not node.has_default and "default" in raw:
        node.has_default, node.default = True, _canon(raw["default"])
    if node.id is None and isinstance(raw.get("$id"), str):
        node.id = raw["$id"]
    return node


def _pointer(doc: object, fragment: str, ref: str) -> object:
    target = doc
    if fragment in ("", "/"):
        return target
    for token in fragment.lstrip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        try:
            target = target[int(token)] if isinstance(target, list) else target[token]
        except (KeyError, IndexError, ValueError, TypeError):
            raise SchemaParseError(f"unresolved $ref {ref!r}") from None
    return target


def _canon(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _bad(keyword: str, value: object):
    raise SchemaParseError(f"'{keyword}' must be a number, got {_canon(value)}")


class ParsedJsonSchema:
    """A parsed JSON Schema: the root node plus the loader that resolves its references."""

    def __init__(self, raw: object, references: Mapping[str, object]) -> None:
        self.raw = raw
        self.loader = _Loader(raw, references)
        self.root = self.loader.load(raw, raw)


def parse(text: str, references: Mapping[str, str] | None = None) -> ParsedJsonSchema:
    """Parse schema text; invalid JSON or an unusable schema raises ``SchemaParseError``."""
    raw = _json(text, "schema")
    refs = {name: _json(body, f"reference {name!r}") for name, body in (references or {}).items()}
    return ParsedJsonSchema(raw, refs)


def _json(text: str, what: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaParseError(
            f"{what} is not valid JSON: {exc.msg}", location=f"line {exc.lineno} column {exc.colno}"
        ) from exc


# ---------------------------------------------------------------------------------------
# The diff walk (Confluent's SchemaDiff and its per-type helpers).

_ALLOWED = {"STRICT": {r.id for r in RULES if r.allowed("STRICT")},
            "LENIENT": {r.id for r in RULES if r.allowed("LENIENT")}}


class _Context:
    def __init__(self, allowed: set[str], path: list[str] | None = None,
                 schemas: set[int] | None = None) -> None:
        self.allowed = allowed
        self.path = list(path or [])
        self.schemas = set(schemas or ())
        self.diffs: list[Change] = []

    def sub(self) -> "_Context":
        return _Context(self.allowed, self.path, self.schemas)

    def add(self, rule_id: str, attribute: str | None = None) -> None:
        parts = self.path + ([attribute] if attribute else [])
        self.diffs.append(Change(rule_id, "#/" + "/".join(parts)))

    def compatible(self) -> bool:
        return all(d.rule_id in self.allowed for d in self.diffs)

    def enter(self, *segments: str) -> "_Scope":
        return _Scope(self.path, segments)


class _Scope:
    def __init__(self, path: list[str], segments: tuple[str, ...]) -> None:
        self.path, self.segments = path, segments

    def __enter__(self) -> None:
        self.path.extend(self.segments)

    def __exit__(self, *exc: object) -> None:
        del self.path[-len(self.segments):]


def changes(new: ParsedJsonSchema, old: ParsedJsonSchema, direction: str,
            policy: str = "STRICT") -> list[Change]:
    """Every difference between ``old`` and ``new``; BACKWARD: can ``new`` accept old data."""
    original, update = (old, new) if direction == "BACKWARD" else (new, old)
    ctx = _Context(_ALLOWED[policy])
    _compare(ctx, original.root, update.root)
    return ctx.diffs


def _deref(node: _Node) -> _Node:
    seen = 0
    while node.kind == "ref":
        node = node.loader.resolve(node)
        seen += 1
        if seen > 100:
            raise SchemaParseError(f"$ref cycle without a schema: {node.ref!r}")
    return node


def _compare(ctx: _Context, original: _Node | None, update: _Node | None) -> None:
    if original is None and update is None:
        return
    if original is None:
        ctx.add("SCHEMA_ADDED")
        return
    if update is None:
        ctx.add("SCHEMA_REMOVED")
        return
    original, update = _deref(original), _deref(update)

    if original.kind != "combined" and update.kind == "combined":
        subs = update.subschemas
        if len(subs) == 1:
            sub = ctx.sub()
            _compare(sub, original, subs[0])
            if sub.compatible():
                ctx.diffs.extend(sub.diffs)
                return
        elif update.criterion in ("anyOf", "oneOf"):
            for branch in subs:
                sub = ctx.sub()
                _compare(sub, original, branch)
                if sub.compatible():
                    ctx.diffs.extend(sub.diffs)
                    ctx.add("SUM_TYPE_EXTENDED")
                    return
    elif original.kind == "combined" and update.kind != "combined":
        subs = original.subschemas
        if len(subs) == 1:
            sub = ctx.sub()
            _compare(sub, subs[0], update)
            if sub.compatible():
                ctx.diffs.extend(sub.diffs)
                return
        elif original.criterion == "allOf":
            for branch in subs:
                sub = ctx.sub()
                _compare(sub, branch, update)
                if sub.compatible():
                    ctx.diffs.extend(sub.diffs)
                    ctx.add("PRODUCT_TYPE_NARROWED")
                    return

    if original.kind != update.kind:
        # true is a kind of empty schema; false accepts nothing, so anything may replace it
        if original.kind != "false" and update.kind not in ("empty", "true"):
            ctx.add("TYPE_CHANGED")
        return

    if id(original) in ctx.schemas:  # recursion: a pair already being compared
        return
    ctx.schemas.add(id(original))
    try:
        if original.id != update.id:
            ctx.add("ID_CHANGED")
        if original.title != update.title:
            ctx.add("TITLE_CHANGED")
        if original.description != update.description:
            ctx.add("DESCRIPTION_CHANGED")
        if original.default != update.default:
            ctx.add("DEFAULT_CHANGED")
        handler = _BY_KIND.get(original.kind)
        if handler:
            handler(ctx, original, update)
    finally:
        ctx.schemas.discard(id(original))


def _bound(ctx: _Context, keyword: str, old: object, new: object, prefix: str) -> None:
    """Emit <PREFIX>_ADDED/_REMOVED/_INCREASED/_DECREASED for a numeric keyword."""
    if old == new:
        return
    if old is None:
        ctx.add(f"{prefix}_ADDED", keyword)
    elif new is None:
        ctx.add(f"{prefix}_REMOVED", keyword)
    elif old < new:
        ctx.add(f"{prefix}_INCREASED", keyword)
    elif old > new:
        ctx.add(f"{prefix}_DECREASED", keyword)


def _string(ctx: _Context, original: _Node, update: _Node) -> None:
    _bound(ctx, "maxLength", original.maxLength, update.maxLength, "MAX_LENGTH")
    _bound(ctx, "minLength", original.minLength, update.minLength, "MIN_LENGTH")
    if original.pattern is None and update.pattern is not None:
        ctx.add("PATTERN_ADDED", "pattern")
    elif original.pattern is not None and update.pattern is None:
        ctx.add("PATTERN_REMOVED", "pattern")
    elif original.pattern != update.pattern:
        ctx.add("PATTERN_CHANGED", "pattern")


def _number(ctx: _Context, original: _Node, update: _Node) -> None:
    _bound(ctx, "maximum", original.maximum, update.maximum, "MAXIMUM")
    _bound(ctx, "minimum", original.minimum, update.minimum, "MINIMUM")
    _bound(ctx, "exclusiveMaximum", original.exclusiveMaximum, update.exclusiveMaximum,
           "EXCLUSIVE_MAXIMUM")
    _bound(ctx, "exclusiveMinimum", original.exclusiveMinimum, update.exclusiveMinimum,
           "EXCLUSIVE_MINIMUM")
    old, new = _decimal(original.multipleOf), _decimal(update.multipleOf)
    if old != new:
        if old is None:
            ctx.add("MULTIPLE_OF_ADDED", "multipleOf")
        elif new is None:
            ctx.add("MULTIPLE_OF_REMOVED", "multipleOf")
        elif new % old == 0:  # new values are a subset of the old ones
            ctx.add("MULTIPLE_OF_EXPANDED", "multipleOf")
        elif old % new == 0:
            ctx.add("MULTIPLE_OF_REDUCED", "multipleOf")
        else:
            ctx.add("MULTIPLE_OF_CHANGED", "multipleOf")
    if original.integer != update.integer:
        ctx.add("TYPE_EXTENDED" if original.integer else "TYPE_NARROWED")


def _decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _enum(ctx: _Context, original: _Node, update: _Node) -> None:
    if original.values != update.values:
        if update.values >= original.values:
            ctx.add("ENUM_ARRAY_EXTENDED", "enum")
        elif original.values >= update.values:
            ctx.add("ENUM_ARRAY_NARROWED", "enum")
        else:
            ctx.add("ENUM_ARRAY_CHANGED", "enum")


def _const(ctx: _Context, original: _Node, update: _Node) -> None:
    if original.value != update.value:
        ctx.add("ENUM_ARRAY_CHANGED", "const")


def _not(ctx: _Context, original: _Node, update: _Node) -> None:
    with ctx.enter("not"):
        sub = ctx.sub()
        _compare(sub, update.not_schema, original.not_schema)  # reversed: 'not' flips direction
        ctx.add("NOT_TYPE_NARROWED" if sub.compatible() else "NOT_TYPE_EXTENDED")


def _combined(ctx: _Context, original: _Node, update: _Node) -> None:
    if original.criterion != update.criterion:
        singleton_old, singleton_new = len(original.subschemas) == 1, len(update.subschemas) == 1
        if (update.criterion == "anyOf" or (singleton_old and singleton_new)
                or (singleton_old and update.criterion == "oneOf")
                or (singleton_new and original.criterion == "allOf")):
            ctx.add("COMBINED_TYPE_EXTENDED")
        else:
            ctx.add("COMBINED_TYPE_CHANGED")
            return
    olds, news = _dedupe(original.subschemas), _dedupe(update.subschemas)
    if len(olds) < len(news):
        ctx.add("PRODUCT_TYPE_EXTENDED" if update.criterion == "allOf" else "SUM_TYPE_EXTENDED")
    elif len(olds) > len(news):
        ctx.add("SUM_TYPE_NARROWED" if original.criterion in ("anyOf", "oneOf")
                else "PRODUCT_TYPE_NARROWED")
    edges: dict[tuple[int, int], list[Change]] = {}
    for i, old in enumerate(olds):
        with ctx.enter(original.criterion, str(i)):
            for j, new in enumerate(news):
                sub = ctx.sub()
                _compare(sub, old, new)
                if sub.compatible():
                    edges[(i, j)] = sub.diffs
    matching = _max_matching(len(olds), len(news), edges)
    for pair in matching:
        ctx.diffs.extend(edges[pair])
    if len(matching) < min(len(olds), len(news)):
        ctx.add("COMBINED_TYPE_SUBSCHEMAS_CHANGED")


def _dedupe(nodes: list[_Node]) -> list[_Node]:
    seen: dict[str, _Node] = {}
    for node in nodes:
        seen.setdefault(node.key, node)
    return list(seen.values())


def _max_matching(n_left: int, n_right: int, edges: Mapping[tuple[int, int], object]) -> list[tuple[int, int]]:
    """Maximum-cardinality bipartite matching (augmenting paths; the sets are tiny)."""
    adjacency = {i: [j for j in range(n_right) if (i, j) in edges] for i in range(n_left)}
    match_right: dict[int, int] = {}

    def augment(i: int, visited: set[int]) -> bool:
        for j in adjacency[i]:
            if j in visited:
                continue
            visited.add(j)
            if j not in match_right or augment(match_right[j], visited):
                match_right[j] = i
                return True
        return False

    for i in range(n_left):
        augment(i, set())
    return sorted((i, j) for j, i in match_right.items())


def _is_open_object(node: _Node) -> bool:
    permits, schema, _ = node.additional
    u_permits, u_schema, _ = node.unevaluated
    return not node.pattern_properties and permits and schema is None and u_permits and u_schema is None


def _covering_schema(node: _Node, name: str) -> _Node | None:
    for pattern, schema in node.pattern_properties.items():
        if pattern.search(name):
            return schema
    if node.additional[1] is not None:
        return node.additional[1]
    if not node.additional[2]:  # unevaluatedProperties only counts when additional is absent
        return node.unevaluated[1]
    return None


def _object(ctx: _Context, original: _Node, update: _Node) -> None:
    with ctx.enter("required"):
        for name in original.properties:
            if name in update.properties:
                was, now = name in original.required, name in update.required
                if was and not now:
                    ctx.add("REQUIRED_ATTRIBUTE_REMOVED", name)
                elif now and not was:
                    ctx.add("REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED"
                            if _deref(update.properties[name]).has_default
                            or update.properties[name].has_default
                            else "REQUIRED_ATTRIBUTE_ADDED", name)
    with ctx.enter("properties"):
        for name in list(dict.fromkeys([*original.properties, *update.properties])):
            old, new = original.properties.get(name), update.properties.get(name)
            with ctx.enter(name):
                if new is None:
                    _property_removed(ctx, update, name, old)
                elif old is None:
                    _property_added(ctx, original, update, name, new)
                else:
                    _compare(ctx, old, new)
    with ctx.enter("dependencies"):
        for name in dict.fromkeys([*original.property_deps, *update.property_deps]):
            old, new = original.property_deps.get(name), update.property_deps.get(name)
            with ctx.enter(name):
                if new is None:
                    ctx.add("DEPENDENCY_ARRAY_REMOVED")
                elif old is None:
                    ctx.add("DEPENDENCY_ARRAY_ADDED")
                elif old != new:
                    ctx.add("DEPENDENCY_ARRAY_EXTENDED" if new >= old else
                            "DEPENDENCY_ARRAY_NARROWED" if old >= new else "DEPENDENCY_ARRAY_CHANGED")
        for name in dict.fromkeys([*original.schema_deps, *update.schema_deps]):
            old, new = original.schema_deps.get(name), update.schema_deps.get(name)
            with ctx.enter(name):
                if new is None:
                    ctx.add("DEPENDENCY_SCHEMA_REMOVED")
                elif old is None:
                    ctx.add("DEPENDENCY_SCHEMA_ADDED")
                else:
                    _compare(ctx, old, new)
    _open_slot(ctx, "additionalProperties", "ADDITIONAL_PROPERTIES", original.additional, update.additional)
    _open_slot(ctx, "unevaluatedProperties", "UNEVALUATED_PROPERTIES", original.unevaluated, update.unevaluated)
    _bound(ctx, "maxProperties", original.maxProperties, update.maxProperties, "MAX_PROPERTIES")
    _bound(ctx, "minProperties", original.minProperties, update.minProperties, "MIN_PROPERTIES")


def _property_removed(ctx: _Context, update: _Node, name: str, old: _Node) -> None:
    # judged on the new content model: only it decides whether the old value is still valid
    if _is_open_object(update):
        ctx.add("PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL")
        return
    covering = _covering_schema(update, name)
    if covering is not None:
        sub = ctx.sub()
        _compare(sub, old, covering)
        ctx.diffs.extend(sub.diffs)
        ctx.add("PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" if sub.compatible()
                else "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
    elif _deref(old).kind == "false":
        ctx.add("PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL")
    else:
        ctx.add("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL")


def _property_added(ctx: _Context, original: _Node, update: _Node, name: str, new: _Node) -> None:
    # judged on the old content model: it decides what old data may hold under that name
    has_default = new.has_default or _deref(new).has_default
    required = name in update.required
    if _is_open_object(original):
        if _deref(new).kind in ("empty", "true"):
            ctx.add("PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL")
        elif required:
            ctx.add("REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL" if has_default
                    else "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL")
        else:
            ctx.add("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL")
        return
    covering = _covering_schema(original, name)
    if covering is not None:
        sub = ctx.sub()
        _compare(sub, covering, new)
        ctx.diffs.extend(sub.diffs)
        ctx.add("PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" if sub.compatible()
                else "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
    if required:
        ctx.add("REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL" if has_default
                else "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")
    else:
        ctx.add("OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")


def _open_slot(ctx: _Context, keyword: str, prefix: str, old: tuple, new: tuple) -> None:
    with ctx.enter(keyword):
        if old[0] != new[0]:
            ctx.add(f"{prefix}_ADDED" if new[0] else f"{prefix}_REMOVED")
        elif old[1] is None and new[1] is not None:
            ctx.add(f"{prefix}_NARROWED")
        elif new[1] is None and old[1] is not None:
            ctx.add(f"{prefix}_EXTENDED")
        else:
            _compare(ctx, old[1], new[1])


def _is_open_array(node: _Node) -> bool:
    return node.additional_items[0] and node.additional_items[1] is None


def _array(ctx: _Context, original: _Node, update: _Node) -> None:
    with ctx.enter("items"):
        _compare(ctx, original.all_items, update.all_items)
    olds, news = original.item_schemas or [], update.item_schemas or []
    for index in range(max(len(olds), len(news))):
        with ctx.enter("items", str(index)):
            if index < len(olds) and index < len(news):
                _compare(ctx, olds[index], news[index])
            elif index < len(olds):
                _item_removed(ctx, update, olds[index])
            else:
                _item_added(ctx, original, news[index])
    _open_slot(ctx, "additionalItems", "ADDITIONAL_ITEMS", original.additional_items, update.additional_items)
    _open_slot(ctx, "unevaluatedItems", "UNEVALUATED_ITEMS", original.unevaluated_items, update.unevaluated_items)
    _bound(ctx, "maxItems", original.maxItems, update.maxItems, "MAX_ITEMS")
    _bound(ctx, "minItems", original.minItems, update.minItems, "MIN_ITEMS")
    if original.uniqueItems != update.uniqueItems:
        ctx.add("UNIQUE_ITEMS_REMOVED" if original.uniqueItems else "UNIQUE_ITEMS_ADDED", "uniqueItems")


def _item_removed(ctx: _Context, update: _Node, old: _Node) -> None:
    if _is_open_array(update):
        ctx.add("ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL")
    elif update.additional_items[1] is not None:
        sub = ctx.sub()
        _compare(sub, old, update.additional_items[1])
        ctx.diffs.extend(sub.diffs)
        ctx.add("ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" if sub.compatible()
                else "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
    elif _deref(old).kind == "false":
        ctx.add("ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL")
    else:
        ctx.add("ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL")


def _item_added(ctx: _Context, original: _Node, new: _Node) -> None:
    if _is_open_array(original):
        ctx.add("ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
                if _deref(new).kind in ("empty", "true") else "ITEM_ADDED_TO_OPEN_CONTENT_MODEL")
    elif original.additional_items[1] is not None:
        sub = ctx.sub()
        _compare(sub, original.additional_items[1], new)
        ctx.diffs.extend(sub.diffs)
        ctx.add("ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" if sub.compatible()
                else "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
    else:
        ctx.add("ITEM_ADDED_TO_CLOSED_CONTENT_MODEL")


_BY_KIND = {
    "string": _string,
    "number": _number,
    "enum": _enum,
    "const": _const,
    "combined": _combined,
    "not": _not,
    "object": _object,
    "array": _array,
}
