"""Field walks for field-level rules (CEL_FIELD, ENCRYPT), one per schema language.

A walker is built once per schema. ``walk(message, visit, rule_tags)`` visits every
leaf field (not containers, not nulls) whose tags meet ``rule_tags`` (all leaves when
``rule_tags`` is empty) and puts back what ``visit(field, value)`` returns. Records are
changed in place, as confluent-kafka does (callers see encrypted fields written back).

Names and types are Confluent's (data-contracts.md, section 2.6): Avro fields are
``<record full name>.<field>``, JSON Schema properties ``$.a.b``, Protobuf fields
``pkg.Message.field``; a field's tags are its inline ``confluent:tags`` (Protobuf:
``(confluent.field_meta).tags``) and those of each ``metadata.tags`` pattern that
matches its full name.
"""
from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any, Callable, Mapping

from ._executor import FieldContext
from ._wildcard import matches

Visit = Callable[[FieldContext, Any], Any]

_AVRO_TYPES = {"record": "RECORD", "error": "RECORD", "enum": "ENUM", "array": "ARRAY", "map": "MAP",
               "fixed": "FIXED", "string": "STRING", "bytes": "BYTES", "int": "INT", "long": "LONG",
               "float": "FLOAT", "double": "DOUBLE", "boolean": "BOOLEAN", "null": "NULL"}
_PRIMITIVES = {"string", "bytes", "int", "long", "float", "double", "boolean", "null"}


class _Tags:
    """A field's tags: inline ones plus the metadata patterns its full name matches."""

    def __init__(self, metadata: Mapping[str, Any] | None) -> None:
        tags = metadata.get("tags") if isinstance(metadata, Mapping) else None
        self._patterns = [(str(p), frozenset(str(t) for t in v)) for p, v in tags.items()
                          if isinstance(v, (list, tuple, set, frozenset))] if isinstance(tags, Mapping) else []
        self._cache: dict[tuple[str, frozenset[str]], frozenset[str]] = {}

    def of(self, full_name: str, inline: frozenset[str]) -> frozenset[str]:
        key = (full_name, inline)
        found = self._cache.get(key)
        if found is None:
            found = inline
            for pattern, tags in self._patterns:
                if matches(full_name, pattern):
                    found = found | tags
            self._cache[key] = found
        return found


def _inline(obj: Any, key: str = "confluent:tags") -> frozenset[str]:
    tags = obj.get(key) if isinstance(obj, dict) else None
    return frozenset(str(t) for t in tags) if isinstance(tags, (list, tuple)) else frozenset()


def _applies(tags: frozenset[str], rule_tags: frozenset[str]) -> bool:
    return not rule_tags or not tags.isdisjoint(rule_tags)


# --------------------------------------------------------------------------- Avro
_MISSING: Any = object()
_GENERIC: Any = object()  # "this schema needs the generic walk"


def _record_step(fields: list[tuple[str, Any]]) -> Any:
    """A compiled walk of a record (dict): each (field name, walk of its value)."""
    def record(value: Any, visit: Visit, holder: Any) -> Any:
        if type(value) is not dict:
            return value
        for name, step in fields:
            item = value.get(name)
            if item is not None:
                value[name] = step(item, visit, value)
        return value

    return record


def _array_step(item: Any) -> Any:
    def array(value: Any, visit: Visit, holder: Any) -> Any:
        if type(value) is list:
            for i, element in enumerate(value):
                if element is not None:
                    value[i] = item(element, visit, holder)
        return value

    return array


def _map_step(item: Any) -> Any:
    def map_(value: Any, visit: Visit, holder: Any) -> Any:
        if type(value) is dict:
            for k, element in value.items():
                if element is not None:
                    value[k] = item(element, visit, holder)
        return value

    return map_


class AvroWalker:
    def __init__(self, expanded: Any, metadata: Mapping[str, Any] | None) -> None:
        self._schema = expanded
        self._tags = _Tags(metadata)
        self._plans: dict[frozenset[str], Any] = {}
        self._named: dict[str, Any] = {}
        self._collect(expanded, "")

    def _collect(self, schema: Any, namespace: str) -> None:
        if isinstance(schema, list):
            for branch in schema:
                self._collect(branch, namespace)
        elif isinstance(schema, dict):
            kind = schema.get("type")
            if kind in ("record", "error", "enum", "fixed") and isinstance(schema.get("name"), str):
                full = _full_name(schema, namespace)
                if full in self._named:
                    return
                self._named[full] = schema
                ns = full.rpartition(".")[0]
                for f in schema.get("fields") or ():
                    if isinstance(f, dict):
                        self._collect(f.get("type"), ns)
            elif kind == "array":
                self._collect(schema.get("items"), namespace)
            elif kind == "map":
                self._collect(schema.get("values"), namespace)
            elif isinstance(kind, (dict, list)):
                self._collect(kind, namespace)

    def _resolve(self, schema: Any, namespace: str) -> tuple[Any, str]:
        """A named type's definition for a name; other schemas as they are."""
        if isinstance(schema, str) and schema not in _PRIMITIVES:
            found = self._named.get(schema) or self._named.get(f"{namespace}.{schema}" if namespace else schema)
            if found is not None:
                return found, _full_name(found, namespace).rpartition(".")[0]
        if isinstance(schema, dict) and isinstance(schema.get("type"), (dict, list)):
            return self._resolve(schema["type"], namespace)
        if isinstance(schema, dict) and schema.get("type") in _PRIMITIVES and "logicalType" not in schema:
            return schema["type"], namespace
        return schema, namespace

    def walk(self, message: Any, visit: Visit, rule_tags: frozenset[str]) -> Any:
        plan = self._plans.get(rule_tags, _MISSING)
        if plan is _MISSING:
            plan = self._plans[rule_tags] = self._compile(self._schema, "", rule_tags, None, {})
        if plan is None:  # no field of this schema has the rule's tags
            return message
        if plan is _GENERIC:
            return self._value(self._schema, "", message, visit, rule_tags, None)
        return plan(message, visit, None)

    # Compiled walks: once per (schema, rule tags), a closure per record type that
    # visits only the fields that can hold a leaf with the tags, in plain dict and list
    # loops. Unions with more than one non-null branch take the generic walk below.
    def _compile(self, schema: Any, namespace: str, rule_tags: frozenset[str],
                 leaf: tuple[str, str, frozenset[str]] | None, records: dict[str, Any]) -> Any:
        schema, namespace = self._resolve(schema, namespace)
        if isinstance(schema, list):
            branches = [b for b in schema if b != "null"]
            if len(branches) != 1:
                return _GENERIC
            inner = self._compile(branches[0], namespace, rule_tags, leaf, records)
            if inner is None or inner is _GENERIC:
                return inner

            def union(value: Any, visit: Visit, holder: Any) -> Any:
                if type(value) is tuple and len(value) == 2:  # (branch name, value) notation
                    return (value[0], inner(value[1], visit, holder))
                return inner(value, visit, holder)

            return union
        kind = schema.get("type") if isinstance(schema, dict) else schema
        if kind in ("record", "error"):
            full = _full_name(schema, namespace)
            if full in records:  # a recursive type: its walk, looked up when called
                box = records[full]

                def recurse(value: Any, visit: Visit, holder: Any) -> Any:
                    return box[0](value, visit, holder) if box[0] is not None else value

                return recurse if box[0] is not _GENERIC else _GENERIC
            box = records[full] = [None]
            ns = full.rpartition(".")[0]
            fields = []
            for f in schema.get("fields") or ():
                name = f.get("name")
                field_full = f"{full}.{name}"
                tags = self._tags.of(field_full, _inline(f))
                sub = self._compile(f.get("type"), ns, rule_tags, (field_full, name, tags), records)
                if sub is _GENERIC:
                    box[0] = _GENERIC
                    return _GENERIC
                if sub is not None:
                    fields.append((name, sub))
            if not fields:
                return None
            box[0] = _record_step(fields)
            return box[0]
        if kind == "array" or kind == "map":
            item = self._compile(schema.get("items" if kind == "array" else "values"), namespace, rule_tags, leaf,
                                 records)
            if item is None or item is _GENERIC:
                return item
            return _array_step(item) if kind == "array" else _map_step(item)
        if leaf is None or not _applies(leaf[2], rule_tags):
            return None
        full_name, name, tags = leaf
        type_name = _AVRO_TYPES.get(str(kind), "STRING")

        def visit_leaf(value: Any, visit: Visit, holder: Any) -> Any:
            return visit(FieldContext(full_name, name, type_name, tags, holder), value)

        return visit_leaf

    def _value(self, schema: Any, namespace: str, value: Any, visit: Visit, rule_tags: frozenset[str],
               leaf: tuple[str, str, frozenset[str], Any] | None) -> Any:
        if value is None:
            return None
        schema, namespace = self._resolve(schema, namespace)
        if isinstance(schema, list):  # a union: the branch the value is written as
            if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
                branch = self._branch_named(schema, namespace, value[0])
                if branch is None:
                    return value
                return (value[0], self._value(branch, namespace, value[1], visit, rule_tags, leaf))
            branch = self._branch_for(schema, namespace, value)
            if branch is None:
                return value
            return self._value(branch, namespace, value, visit, rule_tags, leaf)
        kind = schema.get("type") if isinstance(schema, dict) else schema
        if kind in ("record", "error"):
            if not isinstance(value, dict):
                return value
            full = _full_name(schema, namespace)
            ns = full.rpartition(".")[0]
            for f in schema.get("fields") or ():
                name = f.get("name")
                if name not in value:
                    continue
                field_full = f"{full}.{name}"
                tags = self._tags.of(field_full, _inline(f))
                value[name] = self._value(f.get("type"), ns, value[name], visit, rule_tags, (field_full, name, tags, value))
            return value
        if kind == "array":
            if isinstance(value, list):
                for i, item in enumerate(value):
                    value[i] = self._value(schema.get("items"), namespace, item, visit, rule_tags, leaf)
            return value
        if kind == "map":
            if isinstance(value, dict):
                for k in list(value):
                    value[k] = self._value(schema.get("values"), namespace, value[k], visit, rule_tags, leaf)
            return value
        if leaf is None:
            return value  # a top-level primitive has no field
        full_name, name, tags, message = leaf
        if not _applies(tags, rule_tags):
            return value
        return visit(FieldContext(full_name, name, _AVRO_TYPES.get(str(kind), "STRING"), tags, message), value)

    def _branch_named(self, branches: list[Any], namespace: str, name: str) -> Any:
        for branch in branches:
            resolved, ns = self._resolve(branch, namespace)
            if isinstance(resolved, dict) and resolved.get("name") is not None:
                full = _full_name(resolved, ns)
                if name in (full, resolved.get("name")):
                    return branch
            elif (resolved if isinstance(resolved, str) else resolved.get("type")) == name:
                return branch
        return None

    def _branch_for(self, branches: list[Any], namespace: str, value: Any) -> Any:
        candidates = [b for b in branches if b != "null"]
        if len(candidates) == 1:
            return candidates[0]
        if isinstance(value, dict) and "-type" in value:
            named = self._branch_named(branches, namespace, str(value["-type"]))
            if named is not None:
                return named
        for branch in candidates:
            if self._fits(branch, namespace, value):
                return branch
        return None

    def _fits(self, schema: Any, namespace: str, value: Any) -> bool:
        schema, namespace = self._resolve(schema, namespace)
        kind = schema.get("type") if isinstance(schema, dict) else schema
        logical = schema.get("logicalType") if isinstance(schema, dict) else None
        if logical in ("timestamp-millis", "timestamp-micros", "local-timestamp-millis", "local-timestamp-micros"):
            return isinstance(value, (datetime.datetime, int)) and not isinstance(value, bool)
        if logical == "date":
            return isinstance(value, (datetime.date, int)) and not isinstance(value, bool)
        if logical == "uuid":
            return isinstance(value, (uuid.UUID, str))
        if logical == "decimal":
            return isinstance(value, (decimal.Decimal, bytes))
        if kind == "boolean":
            return isinstance(value, bool)
        if kind in ("int", "long"):
            return isinstance(value, int) and not isinstance(value, bool)
        if kind in ("float", "double"):
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind == "string":
            return isinstance(value, str)
        if kind == "enum":
            return isinstance(value, str) and value in (schema.get("symbols") or ())
        if kind in ("bytes", "fixed"):
            return isinstance(value, (bytes, bytearray))
        if kind == "array":
            return isinstance(value, list)
        if kind == "map":
            return isinstance(value, dict)
        if kind in ("record", "error"):
            names = {f.get("name") for f in schema.get("fields") or ()}
            required = {f.get("name") for f in schema.get("fields") or () if "default" not in f}
            return isinstance(value, dict) and set(value) - {"-type"} <= names and required <= set(value)
        return False


def _full_name(schema: Mapping[str, Any], namespace: str) -> str:
    name = str(schema.get("name"))
    if "." in name:
        return name
    ns = schema.get("namespace", namespace)
    return f"{ns}.{name}" if ns else name


# --------------------------------------------------------------------------- JSON Schema
_JSON_TYPES = {"object": "RECORD", "array": "ARRAY", "string": "STRING", "integer": "INT", "number": "DOUBLE",
               "boolean": "BOOLEAN", "null": "NULL"}


class JsonWalker:
    def __init__(self, document: Any, references: Mapping[str, str], metadata: Mapping[str, Any] | None) -> None:
        import orjson

        self._root = document
        self._docs: dict[str, Any] = {}
        for name, text in references.items():
            try:
                self._docs[name] = orjson.loads(text)
            except orjson.JSONDecodeError:
                continue
        self._tags = _Tags(metadata)
        self._plans: dict[frozenset[str], Any] = {}

    def walk(self, message: Any, visit: Visit, rule_tags: frozenset[str]) -> Any:
        plan = self._plans.get(rule_tags, _MISSING)
        if plan is _MISSING:
            plan = self._plans[rule_tags] = self._compile(self._root, self._root, "$", rule_tags, None, {}, 0)
        if plan is None:
            return message
        if plan is _GENERIC:
            return self._value(self._root, self._root, "$", message, visit, rule_tags, None, 0)
        return plan(message, visit, None)

    # Compiled walks, as for Avro: objects with plain properties, arrays, leaves; a
    # schema with combinators (allOf/anyOf/oneOf) or a type list of several non-null
    # types takes the generic walk, which decides by value.
    def _compile(self, schema: Any, doc: Any, path: str, rule_tags: frozenset[str],
                 leaf: tuple[str, frozenset[str]] | None, seen: dict[int, list[Any]], depth: int) -> Any:
        if depth > 64:
            return _GENERIC
        schema, doc = self._deref(schema, doc)
        if not isinstance(schema, dict):
            return None
        if any(isinstance(schema.get(k), list) and schema.get(k) for k in ("allOf", "anyOf", "oneOf")):
            return _GENERIC
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"]
            if len(kinds) != 1:
                return _GENERIC
            kind = kinds[0]
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else None
        if kind == "object":
            key = id(schema)
            if key in seen:  # a $ref cycle: the walk looked up when called
                box = seen[key]
                if box[0] is _GENERIC:
                    return _GENERIC
                return lambda value, visit, holder: box[0](value, visit, holder) if box[0] else value
            box = seen[key] = [None]
            fields = []
            properties = schema.get("properties")
            for name, sub in (properties.items() if isinstance(properties, dict) else ()):
                full = f"{path}.{name}"
                compiled = self._compile(sub, doc, full, rule_tags, (full, self._tags.of(full, _inline(sub))), seen,
                                         depth + 1)
                if compiled is _GENERIC:
                    box[0] = _GENERIC
                    return _GENERIC
                if compiled is not None:
                    fields.append((name, compiled))
            if not fields:
                return None
            box[0] = _record_step(fields)
            return box[0]
        if kind == "array":
            items = schema.get("items")
            item = self._compile(items, doc, path, rule_tags, leaf, seen, depth + 1) if isinstance(items, dict) else None
            if item is None or item is _GENERIC:
                return item
            return _array_step(item)
        if leaf is None or not _applies(leaf[1], rule_tags):
            return None
        full_name, tags = leaf
        name = full_name.rpartition(".")[2]
        # no type in the schema: confluent-kafka's NULL
        fixed = "ENUM" if "enum" in schema else _JSON_TYPES.get(kind, "NULL") if kind is not None else "NULL"

        def visit_leaf(value: Any, visit: Visit, holder: Any) -> Any:
            if type(value) is dict or type(value) is list:
                return value
            return visit(FieldContext(full_name, name, fixed, tags, holder), value)

        return visit_leaf

    def _deref(self, schema: Any, doc: Any, depth: int = 0) -> tuple[Any, Any]:
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and depth < 64:
            ref = schema["$ref"]
            where, _, pointer = ref.partition("#")
            if where:
                target = self._docs.get(where)
                if target is None:
                    target = next((d for n, d in self._docs.items() if n.endswith(where) or where.endswith(n)), None)
                if target is None:
                    return {}, doc
                doc = target
            node: Any = doc
            for part in [p for p in pointer.split("/") if p]:
                part = part.replace("~1", "/").replace("~0", "~")
                if isinstance(node, dict):
                    node = node.get(part)
                elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                    node = node[int(part)]
                else:
                    node = None
                    break
            schema = node if node is not None else {}
            depth += 1
        return schema, doc

    def _value(self, schema: Any, doc: Any, path: str, value: Any, visit: Visit, rule_tags: frozenset[str],
               leaf: tuple[str, frozenset[str], Any] | None, depth: int) -> Any:
        if value is None or depth > 200:
            return value
        schema, doc = self._deref(schema, doc)
        if not isinstance(schema, dict):
            return value
        for key in ("allOf", "anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                for branch in branches:
                    if key != "allOf" and not self._fits(branch, doc, value):
                        continue
                    value = self._value(branch, doc, path, value, visit, rule_tags, leaf, depth + 1)
                    if key == "oneOf":
                        break
                return value
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if _json_type_fits(k, value)), None)
        if kind is None:
            kind = "object" if "properties" in schema and isinstance(value, dict) else (
                "array" if "items" in schema and isinstance(value, list) else None)
        if kind == "object" and isinstance(value, dict):
            properties = schema.get("properties")
            if isinstance(properties, dict):
                for name, sub in properties.items():
                    if name in value:
                        full = f"{path}.{name}"
                        tags = self._tags.of(full, _inline(sub))
                        value[name] = self._value(sub, doc, full, value[name], visit, rule_tags, (full, tags, value), depth + 1)
            return value
        if kind == "array" and isinstance(value, list):
            items = schema.get("items")
            if isinstance(items, dict):
                for i, item in enumerate(value):
                    value[i] = self._value(items, doc, path, item, visit, rule_tags, leaf, depth + 1)
            return value
        if leaf is None or isinstance(value, (dict, list)):
            return value
        full_name, tags, message = leaf
        if not _applies(tags, rule_tags):
            return value
        if "enum" in schema:
            type_name = "ENUM"
        elif kind in _JSON_TYPES:
            type_name = _JSON_TYPES[kind]
        else:
            type_name = "NULL"  # no type in the schema: confluent-kafka's NULL
        return visit(FieldContext(full_name, full_name.rpartition(".")[2], type_name, tags, message), value)

    def _fits(self, schema: Any, doc: Any, value: Any) -> bool:
        schema, doc = self._deref(schema, doc)
        if not isinstance(schema, dict):
            return schema is not False
        kind = schema.get("type")
        if kind is not None:
            kinds = kind if isinstance(kind, list) else [kind]
            if not any(_json_type_fits(k, value) for k in kinds):
                return False
        if "const" in schema and schema["const"] != value:
            return False
        if isinstance(schema.get("enum"), list) and value not in schema["enum"]:
            return False
        if isinstance(value, dict):
            required = schema.get("required")
            if isinstance(required, list) and not all(r in value for r in required):
                return False
            if schema.get("additionalProperties") is False and isinstance(schema.get("properties"), dict):
                if not set(value) <= set(schema["properties"]):
                    return False
        return True


def _json_type_fits(kind: Any, value: Any) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or isinstance(value, float) and value.is_integer()
    if kind == "number":
        return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return False


# --------------------------------------------------------------------------- Protobuf
_PB_INT = {5, 13, 15, 17, 7}  # int32, uint32, sfixed32, sint32, fixed32
_PB_LONG = {3, 4, 16, 18, 6}  # int64, uint64, sfixed64, sint64, fixed64
_PB_TYPES = {9: "STRING", 12: "BYTES", 2: "FLOAT", 1: "DOUBLE", 8: "BOOLEAN", 14: "ENUM", 11: "RECORD", 10: "RECORD"}


def protobuf_field_tags(field: Any) -> frozenset[str]:
    """``(confluent.field_meta).tags`` of a field descriptor, read from the serialized
    options (extension 1088, ``Meta.tags`` = field 3), so it works in any pool."""
    try:
        options = field.GetOptions().SerializeToString()
    except Exception:  # noqa: BLE001 - no options
        return frozenset()
    meta = _proto_field(options, 1088)
    return frozenset(t.decode("utf-8", "replace") for m in meta for t in _proto_field(m, 3))


def _proto_field(data: bytes, number: int) -> list[bytes]:
    """Every length-delimited occurrence of field ``number`` in a serialized message."""
    out: list[bytes] = []
    i, n = 0, len(data)
    try:
        while i < n:
            key, i = _varint(data, i)
            wire = key & 7
            if wire == 0:
                _, i = _varint(data, i)
            elif wire == 1:
                i += 8
            elif wire == 5:
                i += 4
            elif wire == 2:
                length, i = _varint(data, i)
                if key >> 3 == number:
                    out.append(data[i:i + length])
                i += length
            else:
                break
    except IndexError:
        pass
    return out


def _varint(data: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise IndexError


class ProtobufWalker:
    def __init__(self, descriptor: Any, metadata: Mapping[str, Any] | None) -> None:
        self._descriptor = descriptor
        self._tags = _Tags(metadata)
        self._field_tags: dict[str, frozenset[str]] = {}
        self._plans: dict[frozenset[str], Any] = {}

    def walk(self, message: Any, visit: Visit, rule_tags: frozenset[str]) -> Any:
        if type(message) is dict:  # serde's own form: a walk compiled per rule tags
            plan = self._plans.get(rule_tags, _MISSING)
            if plan is _MISSING:
                plan = self._plans[rule_tags] = self._compile(self._descriptor, rule_tags, {})
            return plan(message, visit, None) if plan is not None else message
        return self._message(self._descriptor, message, visit, rule_tags, 0)  # a generated class's instance

    def _compile(self, descriptor: Any, rule_tags: frozenset[str], seen: dict[str, list[Any]]) -> Any:
        """A walk of dicts of ``descriptor``'s message: the fields that can hold a leaf
        with the tags; None when none can."""
        if descriptor.full_name in seen:  # a message that contains itself
            box = seen[descriptor.full_name]
            return lambda value, visit, holder: box[0](value, visit, holder) if box[0] else value
        box = seen[descriptor.full_name] = [None]
        fields = []
        for field in descriptor.fields:
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                continue  # a map is a MAP field as a whole, which field rules leave alone (as confluent-kafka)
            leaf_type = _leaf_message_type(field)
            if field.type in (10, 11) and leaf_type is None:
                inner = self._compile(field.message_type, rule_tags, seen)
                if inner is None:
                    continue
                step = _message_step(inner)
            else:
                tags = self._tags_of(field)
                if not _applies(tags, rule_tags):
                    continue
                step = _leaf_step(field.full_name, field.name, leaf_type or _proto_type_name(field.type), tags)
            fields.append((field.name, step, "list" if _repeated(field) else None))
        if not fields:
            return None

        def message(value: Any, visit: Visit, holder: Any) -> Any:
            if type(value) is not dict:
                return value
            for name, step, container in fields:
                item = value.get(name)
                if item is None:
                    continue
                if container == "list":
                    if type(item) is list:
                        for i, element in enumerate(item):
                            if element is not None:
                                item[i] = step(element, visit, value)
                else:
                    value[name] = step(item, visit, value)
            return value

        box[0] = message
        return message

    def _tags_of(self, field: Any) -> frozenset[str]:
        found = self._field_tags.get(field.full_name)
        if found is None:
            found = self._field_tags[field.full_name] = self._tags.of(field.full_name, protobuf_field_tags(field))
        return found

    def _message(self, descriptor: Any, message: Any, visit: Visit, rule_tags: frozenset[str], depth: int) -> Any:
        if message is None or depth > 100:
            return message
        is_dict = isinstance(message, dict)
        if not is_dict and not hasattr(message, "ListFields"):
            return message  # a well-known type already turned into a value (a datetime...)
        for field in descriptor.fields:
            if is_dict:
                if field.name not in message:
                    continue
                value = message[field.name]
            else:
                # a field with presence that is unset has no value (and reading it would
                # make an empty sub-message that writing back would set): as confluent-kafka
                if getattr(field, "has_presence", False) and not message.HasField(field.name):
                    continue
                if field.containing_oneof is not None and message.WhichOneof(field.containing_oneof.name) != field.name:
                    continue
                value = getattr(message, field.name)
            new = self._field(field, value, message, visit, rule_tags, depth)
            if new is not value:
                self._put(message, field, new, is_dict)
        return message

    def _put(self, message: Any, field: Any, value: Any, is_dict: bool) -> None:
        if is_dict:
            message[field.name] = value
        elif _repeated(field):  # repeated / map: containers were changed in place
            return
        elif field.type not in (10, 11):
            setattr(message, field.name, value)

    def _field(self, field: Any, value: Any, message: Any, visit: Visit, rule_tags: frozenset[str], depth: int) -> Any:
        if value is None:
            return None
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            return value  # a MAP field: left alone, as confluent-kafka leaves it
        if _repeated(field):
            for i in range(len(value)):
                item = value[i]
                new = self._single(field, item, message, visit, rule_tags, depth, field)
                if new is not item and field.type not in (10, 11):
                    value[i] = new
            return value
        return self._single(field, value, message, visit, rule_tags, depth, field)

    def _single(self, field: Any, value: Any, message: Any, visit: Visit, rule_tags: frozenset[str], depth: int,
                named: Any) -> Any:
        leaf_type = _leaf_message_type(field)
        if field.type in (10, 11) and leaf_type is None:
            return self._message(field.message_type, value, visit, rule_tags, depth + 1)
        tags = self._tags_of(named)
        if not _applies(tags, rule_tags):
            return value
        if leaf_type is not None and hasattr(value, "ListFields"):
            return value  # a Timestamp or Decimal message instance: a value to CEL, not to change here
        return visit(FieldContext(named.full_name, named.name, leaf_type or _proto_type_name(field.type), tags,
                                  message), value)


def _leaf_message_type(field: Any) -> str | None:
    """A Timestamp is a LONG and a confluent.type.Decimal a BYTES leaf, as in
    confluent-kafka (the types their Avro counterparts have), not messages to walk into."""
    if field.type not in (10, 11):
        return None
    return {"google.protobuf.Timestamp": "LONG", "confluent.type.Decimal": "BYTES"}.get(field.message_type.full_name)


def _proto_type_name(kind: int) -> str:
    if kind in _PB_INT:
        return "INT"
    if kind in _PB_LONG:
        return "LONG"
    return _PB_TYPES.get(kind, "STRING")


def _message_step(inner: Any) -> Any:
    def step(value: Any, visit: Visit, holder: Any) -> Any:
        return inner(value, visit, holder)

    return step


def _leaf_step(full_name: str, name: str, type_name: str, tags: frozenset[str]) -> Any:
    def step(value: Any, visit: Visit, holder: Any) -> Any:
        return visit(FieldContext(full_name, name, type_name, tags, holder), value)

    return step


def _repeated(field: Any) -> bool:
    found = getattr(field, "is_repeated", None)  # protobuf >= 6; ``label`` before
    return bool(found) if found is not None else field.label == 3


def walker_for(parsed: Any, metadata: Mapping[str, Any] | None) -> Any:
    """The walker for a parsed schema of any registry schema type, or None (a schema
    serde cannot walk: a CSV layout, a Protobuf file with no message chosen)."""
    schema_type = getattr(parsed, "schema_type", None)
    if schema_type == "AVRO" and hasattr(parsed, "expanded"):
        return AvroWalker(parsed.expanded, metadata)
    if schema_type == "JSON" and hasattr(parsed, "document"):
        return JsonWalker(parsed.document, parsed.references, metadata)
    if schema_type == "PROTOBUF" and getattr(parsed, "descriptor", None) is not None:
        return ProtobufWalker(parsed.descriptor, metadata)
    return None
