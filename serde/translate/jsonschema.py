"""JSON Schema ↔ the neutral model (see ``serde.translate`` for the mapping table)."""
from __future__ import annotations

import json
from typing import Any, Mapping
from urllib.parse import unquote, urldefrag, urljoin

from .. import _model as m
from .._types import SchemaSource
from ._common import check_names, child_path, fail, make_optional, pascal_case, ref_target, type_name

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
_BASE = "https://schemas.serde.invalid/root.json"

# string formats <-> scalar kinds
_FORMATS = {
    "date-time": m.TIMESTAMP_MILLIS,
    "date": m.DATE,
    "time": m.TIME_MILLIS,
    "uuid": m.UUID,
}


# -- JSON Schema -> model --------------------------------------------------------------


def to_model(text: str, references: Mapping[str, str] | None = None) -> m.Type:
    """The model of a JSON Schema; ``references`` maps ``$ref`` names (or ``$id``s) to the
    texts of the schemas they point at. Raises SchemaParseError."""
    from ..formats import get_format

    refs = dict(references or {})
    parsed = get_format("json").parse_schema(SchemaSource(text, refs))
    documents = {name: json.loads(body) for name, body in refs.items()}
    return _Reader(parsed.document, documents).read_root()  # type: ignore[attr-defined]


class _Reader:
    def __init__(self, root: Any, documents: dict[str, Any]) -> None:
        self.root = root
        self.documents = documents
        self.cache: dict[tuple[int, str], m.Type] = {}
        # the $ref targets (and the root) being read, innermost last: a $ref to one of
        # them is recursion, and becomes a Ref to the record that target reads as
        self.in_progress: list[_Frame] = []

    # -- $ref ---------------------------------------------------------------------
    def _base(self, doc: Any) -> str:
        return doc.get("$id", _BASE) if isinstance(doc, dict) else _BASE

    def resolve(self, ref: str, doc: Any, path: str) -> tuple[Any, Any, str, str]:
        """``(document, schema, pointer, name hint)`` that ``ref`` (seen in ``doc``) points at."""
        target, fragment = urldefrag(ref)
        if target:
            doc = self._document(target, doc, path)
        pointer = unquote(fragment)
        node = doc
        hint = ""
        for part in [p for p in pointer.split("/") if p][0 if pointer.startswith("/") else 0 :]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise fail(path, f"$ref {ref!r} points at nothing")
            hint = part
        if not hint and isinstance(doc, dict) and isinstance(doc.get("title"), str):
            hint = doc["title"]
        if not hint and target:
            hint = target.rsplit("/", 1)[-1].split(".", 1)[0]
        return doc, node, pointer, type_name(hint) if hint else ""

    def _document(self, target: str, doc: Any, path: str) -> Any:
        base = self._base(doc)
        absolute = urljoin(base, target)
        if absolute == self._base(self.root) and target == absolute:
            return self.root
        for name, document in self.documents.items():
            if target == name or absolute == urljoin(base, name) or absolute == urljoin(_BASE, name):
                return document
            if isinstance(document, dict) and document.get("$id") in (target, absolute):
                return document
        raise fail(path, f"$ref {target!r} is not among the schema's references")

    # -- schemas --------------------------------------------------------------------
    def read_root(self) -> m.Type:
        key = (id(self.root), "")
        self.in_progress.append(_Frame(key, self.root))
        try:
            result = self.read(self.root, self.root, "$", "Record")
        finally:
            self.in_progress.pop()
        self.cache[key] = result
        return result

    def _recursion(self, key: tuple[int, str], ref: str, path: str) -> m.Ref | None:
        """The Ref for a $ref back into a target still being read; None when ``key`` is
        not one."""
        for frame in self.in_progress:
            if frame.key == key:
                if frame.slot is None:
                    raise fail(path, f"recursive $ref {ref!r}: only an object schema with properties (a record) "
                                     "can contain itself")
                return frame.slot.ref()
        return None

    def read(self, schema: Any, doc: Any, path: str, hint: str) -> m.Type:
        if schema is True or schema == {}:
            return m.Scalar(m.ANY)
        if schema is False:
            raise fail(path, "the schema 'false' accepts no value")
        if not isinstance(schema, dict):
            raise fail(path, f"not a JSON Schema: {schema!r}")
        if "$ref" in schema:
            target_doc, target, pointer, ref_hint = self.resolve(schema["$ref"], doc, path)
            key = (id(target_doc), pointer)
            if key in self.cache:
                return self.cache[key]
            recursive = self._recursion(key, schema["$ref"], path)
            if recursive is not None:
                return recursive
            self.in_progress.append(_Frame(key, target))
            try:
                result = self.read(target, target_doc, path, ref_hint or hint)
            finally:
                self.in_progress.pop()
            self.cache[key] = result
            return result
        for keyword in ("oneOf", "anyOf"):
            if keyword in schema:
                return self._choice(schema, keyword, doc, path, hint)
        if "allOf" in schema:
            return self._all_of(schema, doc, path, hint)
        if "enum" in schema or "const" in schema:
            return self._enum(schema, path, hint)
        kind = schema.get("type")
        if kind is None:
            if "properties" in schema or "additionalProperties" in schema:
                kind = "object"
            elif "items" in schema:
                kind = "array"
            else:
                return m.Scalar(m.ANY)
        if isinstance(kind, list):
            if not kind:
                raise fail(path, "an empty 'type' list accepts no value")
            types = [self.read(dict(schema, type=k), doc, path, hint) for k in kind]
            return _choice_of(types, path, check_overlap=True)
        return self._typed(kind, schema, doc, path, hint)

    def _typed(self, kind: str, schema: dict, doc: Any, path: str, hint: str) -> m.Type:
        if kind == "null":
            return m.Scalar(m.NULL)
        if kind == "boolean":
            return m.Scalar(m.BOOLEAN)
        if kind == "integer":
            low, high = schema.get("minimum"), schema.get("maximum")
            if schema.get("format") == "int32" or (
                isinstance(low, (int, float)) and isinstance(high, (int, float)) and low >= INT32_MIN and high <= INT32_MAX
            ):
                return m.Scalar(m.INT32)
            return m.Scalar(m.INT64)
        if kind == "number":
            return m.Scalar(m.FLOAT32 if schema.get("format") == "float" else m.FLOAT64)
        if kind == "string":
            fmt = schema.get("format")
            if fmt == "decimal":
                precision, scale = schema.get("x-precision"), schema.get("x-scale", 0)
                if not isinstance(precision, int) or not isinstance(scale, int):
                    raise fail(path, "a decimal string needs integer 'x-precision' (and 'x-scale') keywords")
                return m.Decimal(precision, scale)
            if fmt == "date-time" and schema.get("x-timestamp-unit") == "micros":
                return m.Scalar(m.TIMESTAMP_MICROS)
            if fmt in _FORMATS:
                return m.Scalar(_FORMATS[fmt])
            if schema.get("contentEncoding") == "base64":
                return m.Scalar(m.BYTES)
            return m.Scalar(m.STRING)
        if kind == "array":
            items = schema.get("items", True)
            if isinstance(items, list) or "prefixItems" in schema:
                raise fail(path, "tuple arrays (a list of 'items' schemas) have no equivalent in the type model")
            return m.Array(self.read(items, doc, path + "[]", hint))
        if kind == "object":
            properties = schema.get("properties")
            if isinstance(properties, dict) and properties:
                return self._record(schema, doc, path, hint)
            extra = schema.get("additionalProperties", True)
            return m.Map(self.read(extra, doc, path + "{}", hint))
        raise fail(path, f"unknown JSON Schema type {kind!r}")

    def _record(self, schema: dict, doc: Any, path: str, hint: str) -> m.Record:
        title = schema.get("title")
        name = type_name(title) if isinstance(title, str) and title else hint
        required = set(schema.get("required", []))
        slot = m.RecordSlot(name)
        frame = self.in_progress[-1] if self.in_progress else None
        # this record is what the innermost $ref target reads as when it is that target
        # (or the copy `type: ["object", "null"]` makes of it, which shares its properties)
        claimed = frame is not None and frame.slot is None and isinstance(frame.target, dict) and (
            frame.target.get("properties") is schema.get("properties"))
        if claimed:
            frame.slot = slot  # type: ignore[union-attr]
        fields = []
        for fname, prop in schema["properties"].items():
            fpath = child_path(path, fname)
            ftype = self.read(prop, doc, fpath, pascal_case(fname))
            doc_text = prop.get("description") if isinstance(prop, dict) else None
            has_default = isinstance(prop, dict) and "default" in prop
            default = prop.get("default") if isinstance(prop, dict) else None
            if fname not in required:  # absent reads as null: an optional field, null by default
                ftype, has_default = make_optional(ftype), True
            fields.append(m.Field(fname, ftype, default, has_default, doc_text))
        description = schema.get("description")
        return slot.bind(m.Record(name, tuple(fields), description if isinstance(description, str) else None))

    def _enum(self, schema: dict, path: str, hint: str) -> m.Type:
        values = list(schema["enum"]) if "enum" in schema else [schema["const"]]
        nullable = None in values or (isinstance(schema.get("type"), list) and "null" in schema["type"])
        symbols = [v for v in values if v is not None]
        if not symbols:
            return m.Scalar(m.NULL)
        if not all(isinstance(v, str) for v in symbols):
            raise fail(path, f"enum values must be strings to map to an enum type, got {symbols!r}")
        title = schema.get("title")
        name = type_name(title) if isinstance(title, str) and title else hint
        default = schema.get("x-enum-default")
        description = schema.get("description")
        enum = m.Enum(name, tuple(symbols), default, description if isinstance(description, str) else None)
        return m.Optional(enum) if nullable else enum

    def _choice(self, schema: dict, keyword: str, doc: Any, path: str, hint: str) -> m.Type:
        branches = schema[keyword]
        types = [self.read(b, doc, f"{path}", hint) for b in branches]
        return _choice_of(types, path, check_overlap=False, keyword=keyword)

    def _all_of(self, schema: dict, doc: Any, path: str, hint: str) -> m.Type:
        parts = [self.read(p, doc, path, hint) for p in schema["allOf"]]
        rest = {k: v for k, v in schema.items() if k not in ("allOf", "title", "description", "default", "$schema", "$id", "definitions", "$defs")}
        if rest and rest != {"type": "object"}:
            parts.append(self.read(rest, doc, path, hint))
        if len(parts) == 1:
            return parts[0]
        if all(isinstance(p, m.Record) for p in parts):
            fields: dict[str, m.Field] = {}
            for p in parts:
                for f in p.fields:  # type: ignore[union-attr]
                    fields[f.name] = f
            title = schema.get("title")
            name = type_name(title) if isinstance(title, str) and title else parts[0].name  # type: ignore[union-attr]
            return m.Record(name, tuple(fields.values()), schema.get("description"))
        raise fail(path, "allOf can only combine object schemas (their properties are merged)")


class _Frame:
    """A $ref target (or the root) being read, and the record it reads as, once known."""

    def __init__(self, key: tuple[int, str], target: Any) -> None:
        self.key = key
        self.target = target
        self.slot: m.RecordSlot | None = None


def _shape(t: m.Type) -> str:
    if isinstance(t, (m.Record, m.Map, m.Ref)):
        return "object"
    if isinstance(t, m.Array):
        return "array"
    if isinstance(t, (m.Enum, m.Decimal)):
        return "string"
    if isinstance(t, m.Scalar):
        return {
            m.BOOLEAN: "boolean",
            m.INT32: "number",
            m.INT64: "number",
            m.FLOAT32: "number",
            m.FLOAT64: "number",
            m.NULL: "null",
            m.ANY: "any",
        }.get(t.kind, "string")
    return "any"


def _choice_of(types: list[m.Type], path: str, *, check_overlap: bool, keyword: str = "anyOf") -> m.Type:
    non_null = [t for t in types if t != m.Scalar(m.NULL)]
    if check_overlap and len(non_null) > 1:
        shapes = [_shape(t.type if isinstance(t, m.Optional) else t) for t in non_null]
        if "any" in shapes or len(set(shapes)) != len(shapes):
            raise fail(
                path,
                f"{keyword} branches overlap ({', '.join(shapes)}): a value could match several, so it has no "
                "equivalent union; use oneOf or branches of different JSON types",
            )
    from ._common import union_of

    return union_of(types, path)


# -- model -> JSON Schema --------------------------------------------------------------


def from_model(model: m.Type, *, indent: int | None = 2, **options: Any) -> str:
    """JSON Schema (draft-07) text for ``model``: records and enums other than the root
    go to ``definitions`` and are used through ``$ref``."""
    if options:
        raise TypeError(f"unknown JSON Schema option(s): {', '.join(sorted(options))}")
    check_names(model)
    writer = _Writer(model)
    body = writer.write(model, "$", root=True)
    document: dict[str, Any] = {"$schema": DRAFT_07}
    document.update(body)
    if writer.definitions:
        document["definitions"] = dict(writer.definitions)
    return json.dumps(document, indent=indent, ensure_ascii=False)


class _Writer:
    def __init__(self, root: m.Type) -> None:
        self.root = root
        self.definitions: dict[str, Any] = {}

    def write(self, t: m.Type, path: str, root: bool = False) -> dict[str, Any]:
        if isinstance(t, m.Scalar):
            return _scalar(t.kind, path)
        if isinstance(t, m.Decimal):
            return {"type": "string", "format": "decimal", "x-precision": t.precision, "x-scale": t.scale}
        if isinstance(t, m.Array):
            return {"type": "array", "items": self.write(t.items, path + "[]")}
        if isinstance(t, m.Map):
            return {"type": "object", "additionalProperties": self.write(t.values, path + "{}")}
        if isinstance(t, m.Optional):
            return _nullable(self.write(t.type, path))
        if isinstance(t, m.Union_):
            # anyOf, not oneOf: a union takes a value by its first fitting branch (as Avro
            # does), and with oneOf a value fitting two branches ([int, long], records of
            # similar shape) would be refused
            return {"anyOf": [self.write(u, path) for u in t.types]}
        if isinstance(t, m.Ref):
            # recursion: the root is written in place, every other record in definitions
            if isinstance(self.root, m.Record) and t.name == self.root.name:
                return {"$ref": "#"}
            if t.name in self.definitions:
                return {"$ref": _definition_ref(t.name)}
            return self.write(ref_target(t, path), path)
        if isinstance(t, (m.Record, m.Enum)):
            if root:
                return self._named(t, path)
            if t.name not in self.definitions:
                self.definitions[t.name] = {}  # reserve the slot: definitions keep first-use order
                self.definitions[t.name] = self._named(t, path)
            return {"$ref": _definition_ref(t.name)}
        raise fail(path, f"not a model type: {t!r}")

    def _named(self, t: m.Record | m.Enum, path: str) -> dict[str, Any]:
        if isinstance(t, m.Enum):
            out: dict[str, Any] = {"title": t.name, "type": "string", "enum": list(t.symbols)}
            if t.default is not None:
                out["x-enum-default"] = t.default
            if t.doc is not None:
                out["description"] = t.doc
            return out
        out = {"title": t.name}
        if t.doc is not None:
            out["description"] = t.doc
        out["type"] = "object"
        properties: dict[str, Any] = {}
        required = []
        for f in t.fields:
            prop = self.write(f.type, child_path(path, f.name))
            if f.doc is not None or f.has_default:
                if "$ref" in prop:  # keep annotations off a bare $ref (ignored beside it in draft-07)
                    prop = {"allOf": [prop]}
                if f.doc is not None:
                    prop["description"] = f.doc
            optional_by_absence = isinstance(f.type, m.Optional) and f.has_default
            if f.has_default and not (optional_by_absence and f.default is None):
                prop["default"] = f.default
            if not optional_by_absence:
                required.append(f.name)
            properties[f.name] = prop
        out["properties"] = properties
        if required:
            out["required"] = required
        return out


def _definition_ref(name: str) -> str:
    return "#/definitions/" + name.replace("~", "~0").replace("/", "~1")


def _scalar(kind: str, path: str) -> dict[str, Any]:
    if kind == m.ANY:
        return {}
    if kind == m.INT32:
        return {"type": "integer", "minimum": INT32_MIN, "maximum": INT32_MAX}
    if kind == m.INT64:
        return {"type": "integer"}
    if kind == m.FLOAT32:
        return {"type": "number", "format": "float"}
    if kind == m.FLOAT64:
        return {"type": "number"}
    if kind == m.BYTES:
        return {"type": "string", "contentEncoding": "base64"}
    if kind == m.TIMESTAMP_MICROS:
        return {"type": "string", "format": "date-time", "x-timestamp-unit": "micros"}
    for fmt, k in _FORMATS.items():
        if k == kind:
            return {"type": "string", "format": fmt}
    if kind in (m.STRING, m.BOOLEAN, m.NULL):
        return {"type": kind}
    raise fail(path, f"unknown scalar kind {kind!r}")


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str) and "$ref" not in schema and "enum" not in schema:
        return dict(schema, type=[kind, "null"])
    if "anyOf" in schema and len(schema) == 1:
        return {"anyOf": [*schema["anyOf"], {"type": "null"}]}
    return {"anyOf": [schema, {"type": "null"}]}
