"""Avro schemas ↔ the neutral model (see ``serde.translate`` for the mapping table)."""
from __future__ import annotations

import json
from typing import Any, Mapping

from .. import _model as m
from .._types import SchemaSource
from ._common import check_names, child_path, fail, is_fullname, is_identifier, ref_target, split_name, union_of

_SCALARS = {
    "null": m.NULL,
    "boolean": m.BOOLEAN,
    "int": m.INT32,
    "long": m.INT64,
    "float": m.FLOAT32,
    "double": m.FLOAT64,
    "bytes": m.BYTES,
    "string": m.STRING,
}
# logical type -> (underlying Avro types it may annotate, model kind)
_LOGICAL = {
    "date": (("int",), m.DATE),
    "time-millis": (("int",), m.TIME_MILLIS),
    "time-micros": (("long",), m.TIME_MILLIS),  # one way: sub-millisecond precision is kept by values, not the model
    "timestamp-millis": (("long",), m.TIMESTAMP_MILLIS),
    "timestamp-micros": (("long",), m.TIMESTAMP_MICROS),
    "local-timestamp-millis": (("long",), m.TIMESTAMP_MILLIS),  # one way: read as UTC
    "local-timestamp-micros": (("long",), m.TIMESTAMP_MICROS),
    "uuid": (("string", "fixed"), m.UUID),
}
_KIND_TO_AVRO: dict[str, Any] = {
    m.NULL: "null",
    m.BOOLEAN: "boolean",
    m.INT32: "int",
    m.INT64: "long",
    m.FLOAT32: "float",
    m.FLOAT64: "double",
    m.BYTES: "bytes",
    m.STRING: "string",
    m.DATE: {"type": "int", "logicalType": "date"},
    m.TIME_MILLIS: {"type": "int", "logicalType": "time-millis"},
    m.TIMESTAMP_MILLIS: {"type": "long", "logicalType": "timestamp-millis"},
    m.TIMESTAMP_MICROS: {"type": "long", "logicalType": "timestamp-micros"},
    m.UUID: {"type": "string", "logicalType": "uuid"},
}


def _fullname(name: str, namespace: str | None) -> str:
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


# -- Avro -> model ---------------------------------------------------------------------


def to_model(text: str, references: Mapping[str, str] | None = None) -> m.Type:
    """The model of an Avro schema; ``references`` maps reference names to the texts of
    schemas that define named types this one uses. Raises SchemaParseError."""
    from ..formats import get_format

    parsed = get_format("avro").parse_schema(SchemaSource(text, dict(references or {})))
    return _Reader().read(parsed.expanded, None, "$")  # type: ignore[attr-defined]


class _Reader:
    def __init__(self) -> None:
        self.named: dict[str, m.Type] = {}
        # records whose fields are being read: a use of one of these names is recursion
        self.in_progress: dict[str, m.RecordSlot] = {}

    def read(self, node: Any, namespace: str | None, path: str) -> m.Type:
        if isinstance(node, str):
            if node in _SCALARS:
                return m.Scalar(_SCALARS[node])
            for candidate in (_fullname(node, namespace), node):
                if candidate in self.in_progress:
                    return self.in_progress[candidate].ref()
                if candidate in self.named:
                    return self.named[candidate]
            raise fail(path, f"unknown Avro type {node!r}")
        if isinstance(node, list):
            return union_of([self.read(b, namespace, path) for b in node], path)
        if not isinstance(node, dict):
            raise fail(path, f"not an Avro schema: {node!r}")
        kind = node.get("type")
        logical = node.get("logicalType")
        if logical == "decimal" and kind in ("bytes", "fixed"):
            return self._define(node, namespace, m.Decimal(int(node.get("precision", 0)), int(node.get("scale", 0))))
        if logical in _LOGICAL and kind in _LOGICAL[logical][0]:
            return self._define(node, namespace, m.Scalar(_LOGICAL[logical][1]))
        if isinstance(kind, (dict, list)):
            return self.read(kind, namespace, path)
        if kind in _SCALARS:
            return m.Scalar(_SCALARS[kind])
        if kind == "array":
            return m.Array(self.read(node["items"], namespace, path + "[]"))
        if kind == "map":
            return m.Map(self.read(node["values"], namespace, path + "{}"))
        if kind == "fixed":  # one way: the size is not kept
            return self._define(node, namespace, m.Scalar(m.BYTES))
        if kind == "enum":
            full = _fullname(node["name"], node.get("namespace", namespace))
            enum = m.Enum(full, tuple(node["symbols"]), node.get("default"), node.get("doc"))
            return self._define(node, namespace, enum)
        if kind in ("record", "error"):
            full = _fullname(node["name"], node.get("namespace", namespace))
            inner_ns = split_name(full)[0] or None
            slot = self.in_progress[full] = m.RecordSlot(full)
            fields = []
            try:
                for f in node.get("fields", []):
                    fpath = child_path(path, f["name"])
                    ftype = self.read(f["type"], inner_ns, fpath)
                    fields.append(m.Field(f["name"], ftype, f.get("default"), "default" in f, f.get("doc")))
            finally:
                del self.in_progress[full]
            record = slot.bind(m.Record(full, tuple(fields), node.get("doc")))
            self.named[full] = record
            return record
        if isinstance(kind, str):
            return self.read(kind, namespace, path)
        raise fail(path, f"not an Avro schema: {json.dumps(node)[:80]}")

    def _define(self, node: dict, namespace: str | None, model: m.Type) -> m.Type:
        """Remember a named type (fixed, enum) so later uses by name find it."""
        if node.get("type") in ("fixed", "enum") and "name" in node:
            self.named[_fullname(node["name"], node.get("namespace", namespace))] = model
        return model


# -- model -> Avro ---------------------------------------------------------------------


def from_model(model: m.Type, *, indent: int | None = 2, **options: Any) -> str:
    """Avro schema text for ``model``. Raises SchemaParseError naming the path of a type
    Avro cannot express."""
    if options:
        raise TypeError(f"unknown Avro option(s): {', '.join(sorted(options))}")
    check_names(model)
    return json.dumps(_Writer().write(model, None, "$"), indent=indent, ensure_ascii=False)


class _Writer:
    def __init__(self) -> None:
        self.defined: set[str] = set()

    def write(self, t: m.Type, namespace: str | None, path: str) -> Any:
        if isinstance(t, m.Scalar):
            if t.kind not in _KIND_TO_AVRO:
                raise fail(path, f"Avro has no type for {t.kind!r} (untyped JSON)")
            out = _KIND_TO_AVRO[t.kind]
            return dict(out) if isinstance(out, dict) else out
        if isinstance(t, m.Decimal):
            return {"type": "bytes", "logicalType": "decimal", "precision": t.precision, "scale": t.scale}
        if isinstance(t, m.Array):
            return {"type": "array", "items": self.write(t.items, namespace, path + "[]")}
        if isinstance(t, m.Map):
            return {"type": "map", "values": self.write(t.values, namespace, path + "{}")}
        if isinstance(t, m.Optional):
            inner = self.write(t.type, namespace, path)
            return ["null", *(inner if isinstance(inner, list) else [inner])]
        if isinstance(t, m.Union_):
            branches = [self.write(u, namespace, path) for u in t.types]
            return [b for branch in branches for b in (branch if isinstance(branch, list) else [branch])]
        if isinstance(t, m.Ref):
            if t.name in self.defined:  # the usual case: inside the record it names
                return self._ref(t.name, namespace)
            return self.write(ref_target(t, path), namespace, path)
        if isinstance(t, (m.Record, m.Enum)):
            if t.name in self.defined:
                return self._ref(t.name, namespace)
            if not is_fullname(t.name):
                raise fail(path, f"{t.name!r} is not a valid Avro name")
            self.defined.add(t.name)
            out: dict[str, Any] = {"type": "record" if isinstance(t, m.Record) else "enum"}
            out.update(self._name(t.name, namespace))
            if t.doc is not None:
                out["doc"] = t.doc
            if isinstance(t, m.Enum):
                out["symbols"] = list(t.symbols)
                if t.default is not None:
                    out["default"] = t.default
                return out
            inner_ns = split_name(t.name)[0] or None
            fields = []
            for f in t.fields:
                fpath = child_path(path, f.name)
                if not is_identifier(f.name):
                    raise fail(fpath, f"field name {f.name!r} is not a valid Avro name")
                field: dict[str, Any] = {"name": f.name}
                if f.doc is not None:
                    field["doc"] = f.doc
                ftype = self.write(f.type, inner_ns, fpath)
                if f.has_default and isinstance(f.type, m.Optional) and f.default is not None:
                    # Avro checks a union default against the first branch
                    ftype = [*ftype[1:], "null"]
                field["type"] = ftype
                if f.has_default:
                    field["default"] = f.default
                fields.append(field)
            out["fields"] = fields
            return out
        raise fail(path, f"not a model type: {t!r}")

    @staticmethod
    def _name(full: str, namespace: str | None) -> dict[str, str]:
        ns, simple = split_name(full)
        if ns == (namespace or ""):
            return {"name": simple}
        return {"name": simple, "namespace": ns}

    @staticmethod
    def _ref(full: str, namespace: str | None) -> str:
        ns, simple = split_name(full)
        return simple if ns == (namespace or "") else full
