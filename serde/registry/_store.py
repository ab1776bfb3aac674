"""The embedded registry's SQLite store, with Confluent Schema Registry semantics.

One SQLite file holds everything; several processes may share it (WAL journal, every write
in a ``BEGIN IMMEDIATE`` transaction, a generous busy timeout), so concurrent registrations of
one schema from several processes get one id and subject versions never gap or repeat.

Semantics reproduced (see ``docs/registry-api.md`` §5):

* ids are global; the same canonical schema with the same references, metadata and rule set
  gets the same id in every subject; ids are never reused, not even after a permanent delete;
* a subject's next version is max(all versions, soft-deleted included) + 1; registering a
  schema that is already live in the subject returns the existing id and version;
* a soft delete hides a version from lists, ``latest`` and compatibility checks but keeps the
  schema fetchable by id; a permanent delete needs a soft delete first; a version that a live
  schema references cannot be deleted;
* configs (compatibility level, normalize, ...) and modes (READWRITE, READONLY, IMPORT) exist
  globally and per subject.

Errors are raised as ``serde.RegistryError`` (or a subclass) whose ``code`` is Confluent's
``error_code`` and whose ``status`` is its HTTP status; the REST app renders them verbatim.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from serde._errors import (
    IncompatibleSchemaError,
    RegistryError,
    SchemaNotFound,
    SchemaParseError,
    SerdeError,
    SubjectNotFound,
    VersionNotFound,
)

__all__ = ["MODES", "SCHEMA_TYPES", "AssociationRequest", "SchemaRequest", "Store", "api_error"]

SCHEMA_TYPES = ("AVRO", "JSON", "PROTOBUF")
MODES = ("READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT", "FORWARD")
DEFAULT_COMPATIBILITY = "BACKWARD"
DEFAULT_MODE = "READWRITE"
_GLOBAL = "\x00global"  # config/mode key of the global scope; subjects cannot hold control chars
_MAX_VERSION = 2**31 - 1
# The canonical forms and fingerprints rows were stored with: bump it when ``canonical`` or
# ``_fingerprint`` changes, and ``Store`` re-hashes an older database when it opens it.
CANONICAL_VERSION = "3"  # 3: Protobuf ids decided on the compiled descriptor
_GUID_NAMESPACE = uuid.UUID("6f2a3c1e-4d7b-4f0a-9a51-5e7d2c9b8a10")
_CONFIG_KEYS = (
    "compatibilityLevel",
    "normalize",
    "validateFields",
    "compatibilityGroup",
    "compatibilityPolicy",
    "alias",
    "defaultMetadata",
    "overrideMetadata",
    "defaultRuleSet",
    "overrideRuleSet",
)

_ERROR_CLASSES: dict[int, type[RegistryError]] = {
    40401: SubjectNotFound,
    40402: VersionNotFound,
    40403: SchemaNotFound,
    409: IncompatibleSchemaError,
    40901: IncompatibleSchemaError,
}


def api_error(code: int, message: str, **kwargs: Any) -> RegistryError:
    """A ``RegistryError`` carrying Confluent's ``error_code`` and the HTTP status it implies."""
    cls = _ERROR_CLASSES.get(code, RegistryError)
    return cls(message, status=int(str(code)[:3]), code=code, **kwargs)


def _invalid_version(v: object) -> RegistryError:
    return api_error(
        42202,
        f"The specified version '{v}' is not a valid version id. "
        'Allowed values are between [1, 2^31-1] and the string "latest"',
    )


def parse_version(v: object) -> int | str:
    """``"latest"``/``-1`` → ``"latest"``; an int in [1, 2^31-1] → that int; else 42202."""
    if isinstance(v, str):
        if v.lower() == "latest":
            return "latest"
        try:
            n = int(v)
        except ValueError:
            raise _invalid_version(v) from None
    elif isinstance(v, int) and not isinstance(v, bool):
        n = v
    else:
        raise _invalid_version(v)
    if n == -1:
        return "latest"
    if not 1 <= n <= _MAX_VERSION:
        raise _invalid_version(v)
    return n


def check_subject(subject: str) -> None:
    if not subject or any(ord(c) < 32 or c == "\x7f" for c in subject) or subject == "__GLOBAL":
        raise api_error(42208, f"The specified subject '{subject}' is not a valid subject name.")


@dataclass
class SchemaRequest:
    """A RegisterSchemaRequest body, checked for shape."""

    schema: str
    schema_type: str = "AVRO"
    references: list[dict[str, Any]] = field(default_factory=list)
    metadata: Any = None
    rule_set: Any = None
    id: int | None = None
    version: int | None = None

    @classmethod
    def from_body(cls, body: Any) -> "SchemaRequest":
        if not isinstance(body, dict):
            raise api_error(42201, "Invalid schema: the request body must be a JSON object")
        schema = body.get("schema")
        if not isinstance(schema, str) or not schema.strip():
            raise api_error(42201, "Invalid schema: 'schema' must be a non-empty string")
        schema_type = body.get("schemaType") or "AVRO"
        if not isinstance(schema_type, str) or schema_type.upper() not in SCHEMA_TYPES:
            raise api_error(42201, f"Invalid schema: unknown schemaType {schema_type!r}")
        refs = body.get("references") or []
        if not isinstance(refs, list):
            raise api_error(42201, "Invalid schema: 'references' must be a list")
        out_refs = []
        for ref in refs:
            if (
                not isinstance(ref, dict)
                or not isinstance(ref.get("name"), str)
                or not isinstance(ref.get("subject"), str)
                or not isinstance(ref.get("version", -1), int)
            ):
                raise api_error(42201, f"Invalid schema: bad reference {ref!r}")
            out_refs.append({"name": ref["name"], "subject": ref["subject"], "version": ref.get("version", -1)})
        sid = body.get("id")
        version = body.get("version")
        for name, value in (("id", sid), ("version", version)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise api_error(42201, f"Invalid schema: '{name}' must be an integer")
        if sid is not None and sid < 0:
            sid = None  # Confluent clients send id=-1 / version=0 for "unset"
        if version is not None and version <= 0:
            version = None
        return cls(
            schema=schema,
            schema_type=schema_type.upper(),
            references=out_refs,
            metadata=normalize_metadata(body.get("metadata")),
            rule_set=normalize_rule_set(body.get("ruleSet")),
            id=sid,
            version=version,
        )


# --------------------------------------------------------------------------- canonical forms


def _compact(obj: Any, sort_keys: bool = False) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)


_AVRO_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
_AVRO_KEY_ORDER = ("type", "name", "namespace", "doc", "fields", "symbols", "items", "values", "size", "default")


def _avro_normalize(node: Any, namespace: str | None) -> Any:
    """Full names, a fixed attribute order, sorted aliases; doc, defaults, order kept."""

    def full(name: str, ns: str | None) -> str:
        return name if "." in name or not ns else f"{ns}.{name}"

    if isinstance(node, str):
        return node if node in _AVRO_PRIMITIVES else full(node, namespace)
    if isinstance(node, list):
        return [_avro_normalize(n, namespace) for n in node]
    if not isinstance(node, dict):
        return node
    t = node.get("type")
    out: dict[str, Any] = {}
    ns = namespace
    if t in ("record", "error", "enum", "fixed") and isinstance(node.get("name"), str):
        name = node["name"]
        ns_attr = node.get("namespace")
        fullname = name if "." in name else full(name, ns_attr if ns_attr is not None else namespace)
        ns = fullname.rpartition(".")[0] or None
        node = {**node, "name": fullname}
        node.pop("namespace", None)
        if isinstance(node.get("aliases"), list):
            node["aliases"] = sorted(full(a, ns) for a in node["aliases"])
    for key in _AVRO_KEY_ORDER:
        if key not in node:
            continue
        value = node[key]
        if key == "type":
            if value not in ("record", "error", "enum", "fixed", "array", "map"):
                value = _avro_normalize(value, ns)
        elif key == "fields" and isinstance(value, list):
            value = [_avro_normalize_field(f, ns) for f in value]
        elif key in ("items", "values"):
            value = _avro_normalize(value, ns)
        out[key] = value
    for key in sorted(k for k in node if k not in _AVRO_KEY_ORDER):
        value = node[key]
        out[key] = sorted(value) if key == "aliases" and isinstance(value, list) else value
    return out


def _avro_normalize_field(f: Any, ns: str | None) -> Any:
    if not isinstance(f, dict):
        return f
    out: dict[str, Any] = {}
    for key in ("name", "doc", "type", "default", "order", "aliases"):
        if key in f:
            value = f[key]
            if key == "type":
                value = _avro_normalize(value, ns)
            elif key == "aliases" and isinstance(value, list):
                value = sorted(value)
            out[key] = value
    for key in sorted(k for k in f if k not in out):
        out[key] = f[key]
    return out


def canonical(
    schema_type: str,
    text: str,
    normalize: bool = False,
    refs: Sequence[tuple[str, str]] = (),
    *,
    new: bool = False,
) -> str:
    """The text whose hash decides id reuse (raises ValueError when not parseable).

    Avro is Confluent's ``canonicalString()`` (``serde.registry._avro``): ``refs`` are the
    (name, text) of the references, dependencies first; ``new`` parses as Confluent parses a
    schema being registered (strict names, defaults validated).
    """
    if schema_type == "AVRO":
        from serde.registry._avro import canonical_string

        ref_texts = [t for _n, t in refs]
        if normalize:
            text = _compact(_avro_normalize(json.loads(text), None))
        return canonical_string(text, ref_texts, validate_defaults=new, strict_names=new)
    if schema_type == "JSON":
        return _compact(json.loads(text), sort_keys=normalize)
    if schema_type == "PROTOBUF":  # the compiled descriptor (serde.registry._protobuf)
        from serde.registry import _protobuf

        try:
            return _protobuf.canonical(text, dict(refs), normalize)
        except SerdeError as exc:
            raise ValueError(str(exc)) from exc
    return " ".join(text.split())


def _fingerprint(schema_type: str, canon: str, refs: Sequence[Mapping[str, Any]], metadata: Any, rule_set: Any) -> str:
    """What decides "the same schema" (Confluent's MD5): canonical text, references, and the
    contract as Confluent holds it (an empty metadata or rule set counts as none)."""
    metadata, rule_set = metadata or None, rule_set or None
    payload = _compact([schema_type, canon, [[r["name"], r["subject"], r["version"]] for r in refs], metadata, rule_set], True)
    return hashlib.sha256(payload.encode()).hexdigest()


# --------------------------------------------------------------------------- data contracts
#
# ``metadata`` and ``ruleSet`` as Confluent's entities hold them (``Metadata``, ``Rule``,
# ``RuleSet``): metadata keys, tags and ``sensitive`` sorted; a rule's ``kind`` defaults to
# TRANSFORM and its ``mode`` to WRITEREAD, its tags and params sorted; empty parts dropped. So
# two requests Confluent treats as the same contract get the same fingerprint (and id).

CONFLUENT_VERSION = "confluent:version"
RULE_KINDS = ("TRANSFORM", "CONDITION")
RULE_MODES = ("UPGRADE", "DOWNGRADE", "UPDOWN", "WRITE", "READ", "WRITEREAD")
RULE_PHASES = ("migrationRules", "domainRules", "encodingRules")
ENABLE_AT = ("ALL", "CLIENT", "GATEWAY", "SERVER", "NONE")
_RULE_NAME_MAX = 256
_CONTRACT_KEYS = ("defaultMetadata", "overrideMetadata", "defaultRuleSet", "overrideRuleSet")


def _unprocessable(what: str, detail: str) -> RegistryError:
    """A body Jackson cannot map onto Confluent's entity (HTTP 422)."""
    return api_error(422, f"Unprocessable {what}: {detail}")


def _java_text(value: Any, what: str) -> str:
    """A JSON scalar as Jackson coerces it into a Java String."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        from serde.registry._avro import java_json

        return java_json(value).strip('"')
    raise _unprocessable(what, f"expected a string, got {_compact(value)}")


def _text_set(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        value = [value]  # Jackson accepts a single value for a set
    if not isinstance(value, list):
        raise _unprocessable(what, f"expected a list of strings, got {_compact(value)}")
    return sorted({_java_text(v, what) for v in value if v is not None})


def normalize_metadata(metadata: Any) -> dict[str, Any] | None:
    """``Metadata`` as Confluent holds it; None when absent (``{}``, empty, has none's MD5)."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise _unprocessable("metadata", f"expected an object, got {_compact(metadata)}")
    out: dict[str, Any] = {}
    tags = metadata.get("tags")
    if tags is not None:
        if not isinstance(tags, dict):
            raise _unprocessable("metadata", "tags must map a path to a list of tags")
        norm_tags = {str(k): _text_set(v, "metadata tags") for k, v in sorted(tags.items())}
        if norm_tags:
            out["tags"] = norm_tags
    norm_props = _text_map(metadata.get("properties"), "metadata", "properties")
    if norm_props:
        out["properties"] = norm_props
    sensitive = _text_set(metadata.get("sensitive"), "metadata sensitive")
    if sensitive:
        out["sensitive"] = sensitive
    return out  # {} when given empty: it still stops the previous version's from carrying over


def _text_map(value: Any, field: str, what: str) -> dict[str, str]:
    """A string-to-string map of a data contract (metadata properties, rule params),
    sorted, null values dropped; 422 naming ``field`` when it is not a map."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _unprocessable(field, f"{what} must map strings to strings")
    return {str(k): _java_text(v, what) for k, v in sorted(value.items()) if v is not None}


def _normalize_rule(rule: Any) -> dict[str, Any]:
    if not isinstance(rule, dict):
        raise _unprocessable("ruleSet", f"a rule must be an object, got {_compact(rule)}")
    out: dict[str, Any] = {}
    for key in ("name", "doc"):
        if rule.get(key) is not None:
            out[key] = _java_text(rule[key], f"rule {key}")
    for key, allowed, default in (("kind", RULE_KINDS, "TRANSFORM"), ("mode", RULE_MODES, "WRITEREAD")):
        value = rule.get(key)
        if value is None:
            value = default
        if value not in allowed:
            raise _unprocessable("ruleSet", f"rule {key} {_compact(value)} is not one of {', '.join(allowed)}")
        out[key] = value
    if rule.get("type") is not None:
        out["type"] = _java_text(rule["type"], "rule type")
    tags = _text_set(rule.get("tags"), "rule tags")
    if tags:
        out["tags"] = tags
    norm = _text_map(rule.get("params"), "ruleSet", "rule params")
    if norm:
        out["params"] = norm
    for key in ("expr", "onSuccess", "onFailure"):
        if rule.get(key) is not None:
            out[key] = _java_text(rule[key], f"rule {key}")
    disabled = rule.get("disabled", False)
    if disabled is None:
        disabled = False
    if not isinstance(disabled, bool):
        raise _unprocessable("ruleSet", "rule disabled must be a boolean")
    out["disabled"] = disabled
    return out


def normalize_rule_set(rule_set: Any) -> dict[str, Any] | None:
    """``RuleSet`` as Confluent holds it; None when absent (``{}`` has none's MD5)."""
    if rule_set is None:
        return None
    if not isinstance(rule_set, dict):
        raise _unprocessable("ruleSet", f"expected an object, got {_compact(rule_set)}")
    out: dict[str, Any] = {}
    for phase in RULE_PHASES:
        rules = rule_set.get(phase)
        if rules is None:
            continue
        if not isinstance(rules, list):
            raise _unprocessable("ruleSet", f"{phase} must be a list of rules")
        if rules:
            out[phase] = [_normalize_rule(r) for r in rules]
    enable_at = rule_set.get("enableAt")
    if enable_at is not None:
        if enable_at not in ENABLE_AT:
            raise _unprocessable("ruleSet", f"enableAt {_compact(enable_at)} is not one of {', '.join(ENABLE_AT)}")
        out["enableAt"] = enable_at
    return out


def _invalid_rule_set(message: str) -> RegistryError:
    return api_error(42210, f"Invalid rule set: {message}")


def validate_rule_set(rule_set: Mapping[str, Any] | None) -> None:
    """``RuleSet.validate()``: 42210 for a bad name, a duplicate name, no type, a mode
    not allowed in its phase, or two actions on a rule that is not WRITEREAD or UPDOWN."""
    if not rule_set:
        return
    names: set[str] = set()
    for phase in RULE_PHASES:
        for rule in rule_set.get(phase) or ():
            name = rule.get("name")
            if name in names:
                raise _invalid_rule_set(f"Found rule with duplicate name '{name}'")
            if name is None:
                raise _invalid_rule_set("Missing rule name")
            names.add(name)
            if not name:
                raise _invalid_rule_set("Empty rule name")
            if len(name) > _RULE_NAME_MAX:
                raise _invalid_rule_set("Rule name too long")
            if not (name[0].isalpha() or name[0] == "_"):
                raise _invalid_rule_set(f"Illegal initial character in rule name: {name}")
            if not all(c.isalnum() or c in "_-" for c in name[1:]):
                raise _invalid_rule_set(f"Illegal character in rule name: {name}")
            if rule.get("type") is None:
                raise _invalid_rule_set("Missing rule type")
            mode = rule["mode"]
            for action in (rule.get("onSuccess"), rule.get("onFailure")):
                if action is not None and "," in action and mode not in ("WRITEREAD", "UPDOWN"):
                    raise _invalid_rule_set("Multiple actions only valid with WRITEREAD and UPDOWN")
            if phase == "migrationRules" and mode not in ("UPGRADE", "DOWNGRADE", "UPDOWN"):
                raise _invalid_rule_set("Migration rules can only be UPGRADE, DOWNGRADE, UPDOWN")
            if phase == "domainRules" and mode not in ("WRITE", "READ", "WRITEREAD"):
                raise _invalid_rule_set("Domain rules can only be WRITE, READ, WRITEREAD")
            if phase == "encodingRules" and mode not in ("WRITE", "READ", "WRITEREAD"):
                raise _invalid_rule_set("Encoding rules can only be WRITE, READ, WRITEREAD")


def merge_metadata(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``Metadata.mergeMetadata``: tags and properties key by key (``new`` wins), ``sensitive`` a union."""
    if old is None:
        return dict(new) if new is not None else None
    if new is None:
        return dict(old)
    out: dict[str, Any] = {}
    for key in ("tags", "properties"):
        merged = {**(old.get(key) or {}), **(new.get(key) or {})}
        if merged:
            out[key] = dict(sorted(merged.items()))
    sensitive = sorted(set(old.get("sensitive") or ()) | set(new.get("sensitive") or ()))
    if sensitive:
        out["sensitive"] = sensitive
    return out or None


def merge_rule_sets(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``RuleSet.mergeRuleSets``: per phase, an old rule named like a new one is dropped and the
    new rules follow the remaining old ones; ``enableAt`` is the newest one set."""
    if old is None:
        return dict(new) if new is not None else None
    if new is None:
        return dict(old)
    out: dict[str, Any] = {}
    for phase in RULE_PHASES:
        old_rules, new_rules = list(old.get(phase) or ()), list(new.get(phase) or ())
        if not old_rules or not new_rules:
            merged = new_rules or old_rules
        else:
            names = {r.get("name") for r in new_rules}
            merged = [r for r in old_rules if r.get("name") not in names] + new_rules
        if merged:
            out[phase] = merged
    enable_at = new.get("enableAt") or old.get("enableAt")
    if enable_at:
        out["enableAt"] = enable_at
    return out or None


def _property(metadata: Mapping[str, Any] | None, name: str) -> Any:
    properties = (metadata or {}).get("properties") if isinstance(metadata, Mapping) else None
    return properties.get(name) if isinstance(properties, Mapping) else None


def _loads(row: Sequence[Any] | None) -> Any:
    """The metadata of a schema row, parsed (None when it has none)."""
    if row is None or not row[5]:
        return None
    return json.loads(row[5])


def _without_version(metadata: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``Metadata.removeConfluentVersion`` (an emptied metadata stays, as an empty one)."""
    if metadata is None:
        return None
    props = {k: v for k, v in (metadata.get("properties") or {}).items() if k != CONFLUENT_VERSION}
    out = {k: v for k, v in metadata.items() if k != "properties"}
    if props:
        out["properties"] = props
    return out


def _confluent_version(metadata: Mapping[str, Any] | None) -> str | None:
    return ((metadata or {}).get("properties") or {}).get(CONFLUENT_VERSION)


def _version_number(metadata: Mapping[str, Any] | None) -> int | None:
    """``Metadata.getConfluentVersionNumber``: the property as an int, None if absent or not one."""
    try:
        return int(str(_confluent_version(metadata)))
    except ValueError:
        return None


# --------------------------------------------------------------------------- validation


def validate_schema(schema_type: str, text: str, refs: Sequence[tuple[str, str]]) -> None:
    """Raise 42201 when ``text`` is not a valid schema; ``refs`` is (name, text) in dependency order."""
    if schema_type == "AVRO":  # parsed as Confluent parses a new schema: strict names, defaults
        try:
            canonical("AVRO", text, refs=refs, new=True)
        except (ValueError, RecursionError) as exc:
            raise api_error(42201, f"Invalid schema: {exc}") from exc
    elif schema_type == "JSON":
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise api_error(42201, f"Invalid schema: not JSON: {exc}") from exc
        if not isinstance(obj, (dict, bool)):
            raise api_error(42201, "Invalid schema: a JSON Schema must be an object or a boolean")
        try:
            import jsonschema_rs
        except ImportError:  # pragma: no cover - optional speed-up only
            return
        if isinstance(obj, dict):
            if "$schema" not in obj:  # Confluent's default dialect is draft-07, not 2020-12
                obj = {**obj, "$schema": "http://json-schema.org/draft-07/schema#"}
            try:
                jsonschema_rs.meta.validate(obj)
            except jsonschema_rs.ValidationError as exc:
                raise api_error(42201, f"Invalid schema: {exc}") from exc
            except Exception:  # unknown $schema dialects: accept like Confluent does
                pass
    elif schema_type == "PROTOBUF":  # .proto text or a base64 FileDescriptorProto
        from serde.registry import _protobuf

        try:
            _protobuf.validate(text, dict(refs))
        except SerdeError as exc:
            raise api_error(42201, f"Invalid schema: {exc}") from exc
    else:
        raise api_error(42201, f"Invalid schema: unknown schemaType {schema_type!r}")


def _stored_proto_text(text: str) -> str:
    """A base64 ``FileDescriptorProto`` (an older database kept them) as ``.proto`` text."""
    from serde.registry._protobuf import proto_text

    return proto_text(text)


def serialized_proto(text: str, refs: Mapping[str, str]) -> str:
    """``format=serialized``: the schema as a base64 ``FileDescriptorProto``."""
    from serde.registry import _protobuf

    return _protobuf.serialized(text, refs)


# --------------------------------------------------------------------------- compatibility


def _base_level(level: str) -> str:
    return level.replace("_TRANSITIVE", "")


def run_compat(
    schema_type: str,
    new: tuple[str, dict[str, str]],
    previous: Sequence[tuple[int, str, dict[str, str]]],
    level: str,
) -> list[str]:
    """Messages for every previous (version, text, refs) that ``new`` breaks; [] when compatible.

    The engine lives in ``serde.compat`` (imported lazily); each previous version is checked
    on its own at the level's direction so every message names the version it concerns.
    """
    if level == "NONE" or not previous:
        return []
    try:
        from serde.compat import check
    except ImportError:  # the compat engine is not installed: everything is compatible
        return []
    base = _base_level(level)
    messages: list[str] = []
    for version, text, refs in previous:
        try:
            result = check(schema_type, (new[0], new[1]), [(text, refs)], level=base, versions=[version])
        except SchemaParseError as exc:
            if "new schema" in str(exc):
                raise api_error(42201, f"Invalid schema: {exc}") from exc
            msgs, ok = [f"previous version {version} cannot be parsed: {exc}"], False
        except Exception as exc:  # an engine failure is a verdict, not a crash
            msgs, ok = [f"compatibility check failed: {exc}"], False
        else:
            ok = bool(result.compatible)
            msgs = [str(m) for m in (getattr(result, "messages", None) or [])]
        if not ok:
            messages.extend(msgs or ["the schema is incompatible"])
            messages.append(f"{{oldSchemaVersion: {version}}}")
            messages.append(f"{{oldSchema: '{text[:10240]}'}}")
            messages.append(f"{{validateFields: 'false', compatibility: '{level}'}}")
    return messages


# --------------------------------------------------------------------------- associations
#
# Confluent's associations API (``AssociationsResource``): a Kafka resource (a topic, named by
# namespace = Kafka cluster id, name and id) is associated with the subject holding its key or
# value schemas. WEAK associations point at an existing subject; STRONG ones own the subject
# ``:.<namespace>:<topic>-<key|value>``, are frozen, and are created together with its first
# schema. The ASSOCIATED subject name strategy asks ``GET /associations/resources/{ns}/{name}``.

RESOURCE_TYPES = ("topic",)
ASSOCIATION_TYPES = ("key", "value")
LIFECYCLES = ("STRONG", "WEAK")
RESOURCE_WILDCARD = "-"
ASSOCIATION_LIMIT = 1000  # schema.search.default.limit / max.limit: what a page holds at most
_NAME_MAX_LENGTH = 256


def invalid_association(prop: str, detail: str) -> RegistryError:
    """Confluent's 42212 (``RestInvalidAssociationException``)."""
    return api_error(
        42212, f"The association specified an invalid value for property: '{prop}', detail: {detail}"
    )


def _check_name(name: object, prop: str) -> None:
    """A resource name or namespace: 1-256 letters, digits, ``_`` and ``-`` (``RestValidation``)."""
    if not isinstance(name, str) or not name:
        raise invalid_association(prop, "cannot be null or empty")
    if len(name) > _NAME_MAX_LENGTH:
        raise invalid_association(prop, f"exceeds max length of {_NAME_MAX_LENGTH}")
    for c in name:
        if not (c in "_-" or (ord(c) <= 0xFFFF and (c.isalpha() or c.isdecimal()))):
            raise invalid_association(prop, f"illegal character '{c}'")


def _unqualified(subject: str) -> str:
    """``:.:orders-value`` names the default context's ``orders-value``."""
    return subject[3:] if subject.startswith(":.:") else subject


def _optional(body: Mapping[str, Any], key: str, kind: type, prop: str | None = None) -> Any:
    value = body.get(key)
    if value is not None and (not isinstance(value, kind) or (kind is not bool and isinstance(value, bool))):
        raise invalid_association(prop or key, f"must be a {'boolean' if kind is bool else 'string'}")
    return value


@dataclass
class AssociationInfoRequest:
    """One ``AssociationCreateOrUpdateInfo`` of a request."""

    subject: str | None = None
    association_type: str | None = None
    lifecycle: str | None = None
    frozen: bool | None = None
    schema: SchemaRequest | None = None
    normalize: bool | None = None

    @classmethod
    def from_body(cls, body: Any) -> "AssociationInfoRequest":
        if not isinstance(body, dict):
            raise invalid_association("associations", "each association must be a JSON object")
        lifecycle = body.get("lifecycle")
        if lifecycle is not None and lifecycle not in LIFECYCLES:
            raise invalid_association("lifecycle", "must be STRONG or WEAK")
        schema = body.get("schema")
        if schema is not None and not isinstance(schema, dict):
            raise invalid_association("schema", "must be a RegisterSchemaRequest object")
        return cls(
            subject=_optional(body, "subject", str),
            association_type=_optional(body, "associationType", str),
            lifecycle=lifecycle,
            frozen=_optional(body, "frozen", bool),
            schema=SchemaRequest.from_body(schema) if schema is not None else None,
            normalize=_optional(body, "normalize", bool),
        )

    def apply_defaults(self, is_create: bool) -> None:
        """A schema makes the association STRONG (and frozen); without one it is WEAK."""
        if not is_create and self.schema is not None:
            raise invalid_association(
                "schema",
                "cannot be provided when adding an association to an existing topic; "
                "an association with a schema must be created with the topic",
            )
        if self.schema is not None:
            if self.lifecycle == "WEAK":
                raise invalid_association("lifecycle", "cannot be WEAK when schema is provided")
            if self.frozen is False:
                raise invalid_association("frozen", "cannot be false when a schema is provided")
            self.lifecycle = "STRONG"
        elif self.lifecycle is None:
            self.lifecycle = "WEAK"
        desired = self.lifecycle == "STRONG"
        if self.frozen is not None and self.frozen != desired:
            raise invalid_association(
                "frozen", f"association with lifecycle of {self.lifecycle} cannot be frozen={str(self.frozen).lower()}"
            )
        self.frozen = desired

    def validate(self, is_create: bool) -> None:
        if self.subject is not None and (not self.subject or any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in self.subject)):
            raise invalid_association("subject", "must not be empty")
        if is_create:
            self.apply_defaults(True)
        if self.association_type:
            if self.association_type not in ASSOCIATION_TYPES:
                raise invalid_association("associationType", "must be either 'key' or 'value'")
        else:
            self.association_type = "value"
        if self.lifecycle == "WEAK":
            if self.schema is not None:
                raise invalid_association("lifecycle", "cannot be WEAK when schema is provided")
            if self.frozen is True:
                raise invalid_association("frozen", "association with lifecycle of WEAK cannot be frozen")
            if is_create and self.subject is None:
                raise invalid_association("subject", "must be provided for WEAK associations")


@dataclass
class AssociationRequest:
    """An ``AssociationCreateOrUpdateRequest`` body (``POST /associations``, ``PUT .../{resourceId}``)."""

    resource_name: str | None = None
    resource_namespace: str | None = None
    resource_id: str | None = None
    resource_type: str | None = None
    associations: list[AssociationInfoRequest] = field(default_factory=list)

    @classmethod
    def from_body(cls, body: Any) -> "AssociationRequest":
        if not isinstance(body, dict):
            raise invalid_association("request", "the request body must be a JSON object")
        infos = body.get("associations")
        if infos is not None and not isinstance(infos, list):
            raise invalid_association("associations", "must be a list")
        return cls(
            resource_name=_optional(body, "resourceName", str),
            resource_namespace=_optional(body, "resourceNamespace", str),
            resource_id=_optional(body, "resourceId", str),
            resource_type=_optional(body, "resourceType", str),
            associations=[AssociationInfoRequest.from_body(i) for i in infos or []],
        )

    def default_subject(self, association_type: str) -> str:
        return f":.{self.resource_namespace}:{self.resource_name}-{association_type}"

    def validate(self, is_create: bool, dry_run: bool) -> None:
        """``AssociationCreateOrUpdateRequest.validate``: names, id, type, then each association."""
        _check_name(self.resource_name, "resourceName")
        _check_name(self.resource_namespace, "resourceNamespace")
        if not dry_run and not self.resource_id:
            raise invalid_association("resourceId", "cannot be null or empty")
        if self.resource_type:
            if self.resource_type not in RESOURCE_TYPES:
                raise invalid_association("resourceType", "must be 'topic'")
        else:
            self.resource_type = "topic"
        if not self.associations:
            raise invalid_association("associations", "cannot be null or empty")
        for info in self.associations:
            info.validate(is_create)
            assert info.association_type is not None
            default = self.default_subject(info.association_type)
            if is_create:
                if info.subject is None:
                    info.subject = default
                if info.frozen is True and info.subject != default:
                    raise invalid_association("subject", f"frozen associations must use subject '{default}'")
                if info.lifecycle == "WEAK" and info.subject == default:
                    raise invalid_association("subject", f"WEAK associations cannot use subject '{default}'")


def _association_entity(row: Sequence[Any]) -> dict[str, Any]:
    """A row as Confluent's ``Association``: ``frozen`` only where it differs from the lifecycle's."""
    guid, name, namespace, rid, rtype, atype, subject, lifecycle, frozen, create_ts, update_ts = row
    out: dict[str, Any] = {
        "subject": _unqualified(subject),
        "guid": guid,
        "resourceName": name,
        "resourceNamespace": namespace,
        "resourceId": rid,
        "resourceType": rtype,
        "associationType": atype,
        "lifecycle": lifecycle,
    }
    if bool(frozen) != (lifecycle == "STRONG"):
        out["frozen"] = bool(frozen)
    out["createTs"] = create_ts
    out["updateTs"] = update_ts
    out["_frozen"] = bool(frozen)  # private: dropped from responses
    return out


def _most_recent_resource(associations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only the associations of the most recently updated resource among those sharing a name."""
    if not associations:
        return associations
    latest = max(associations, key=lambda a: (a["updateTs"], a["createTs"], a["resourceId"]))
    return [a for a in associations if a["resourceId"] == latest["resourceId"]]


_ASSOCIATION_COLUMNS = (
    "guid, resource_name, resource_namespace, resource_id, resource_type, association_type,"
    " subject, lifecycle, frozen, create_ts, update_ts"
)
_ASSOCIATION_ORDER = " ORDER BY resource_name, resource_namespace, resource_type, association_type, subject"


# --------------------------------------------------------------------------- the store

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS schemas (
    id INTEGER PRIMARY KEY,
    guid TEXT NOT NULL,
    schema_type TEXT NOT NULL,
    schema TEXT NOT NULL,
    refs TEXT NOT NULL,
    metadata TEXT,
    rule_set TEXT,
    hash TEXT NOT NULL,
    norm_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS schemas_hash ON schemas (hash);
CREATE INDEX IF NOT EXISTS schemas_norm_hash ON schemas (norm_hash);
CREATE INDEX IF NOT EXISTS schemas_guid ON schemas (guid);
CREATE TABLE IF NOT EXISTS versions (
    subject TEXT NOT NULL,
    version INTEGER NOT NULL,
    schema_id INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    ts INTEGER NOT NULL,
    PRIMARY KEY (subject, version)
);
CREATE INDEX IF NOT EXISTS versions_schema ON versions (schema_id);
CREATE TABLE IF NOT EXISTS refs (
    schema_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS refs_target ON refs (subject, version);
CREATE INDEX IF NOT EXISTS refs_source ON refs (schema_id);
CREATE TABLE IF NOT EXISTS config (subject TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS modes (subject TEXT PRIMARY KEY, mode TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS associations (
    guid TEXT PRIMARY KEY,
    resource_name TEXT NOT NULL,
    resource_namespace TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    association_type TEXT NOT NULL,
    subject TEXT NOT NULL,
    lifecycle TEXT NOT NULL,
    frozen INTEGER NOT NULL,
    create_ts INTEGER NOT NULL,
    update_ts INTEGER NOT NULL,
    UNIQUE (resource_name, resource_namespace, resource_type, association_type, subject)
);
CREATE INDEX IF NOT EXISTS associations_subject ON associations (subject);
CREATE INDEX IF NOT EXISTS associations_resource_id ON associations (resource_id);
"""


def _live(deleted: bool) -> str:
    return "" if deleted else " AND deleted = 0"



def _incompatible(subject: str, messages: list[str]) -> IncompatibleSchemaError:
    """Confluent's 409 for a schema that breaks the subject's compatibility level."""
    return IncompatibleSchemaError(
        f'Schema being registered is incompatible with an earlier schema for subject "{subject}",'
        f" details: [{', '.join(messages)}]",
        messages=messages,
        status=409,
        code=409,
    )

class Store:
    """Confluent registry semantics over one SQLite file (thread- and process-safe)."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 60.0) -> None:
        self.path = os.fspath(path)
        parent = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(parent, exist_ok=True)
        self._busy_timeout = busy_timeout
        self._pool: list[sqlite3.Connection] = []  # idle connections, shared by all threads
        self._pool_lock = threading.Lock()
        self._closed = False
        try:
            with self._write() as conn:
                for stmt in _DDL.strip().split(";"):
                    if stmt.strip():
                        conn.execute(stmt)
                self._migrate(conn)
        except (sqlite3.Error, OSError) as exc:
            # e.g. a path that names some other file: say so, not sqlite's traceback
            raise RegistryError(f"cannot open the registry database {self.path}: {exc}", code=50001) from exc

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Bring the rows of an older database to today's canonical forms, in place.

        When ``CANONICAL_VERSION`` changes (Avro became Confluent's ``canonicalString()``,
        metadata and rule sets are held as Confluent holds them), every schema's stored text
        (Avro), contract and fingerprints are recomputed, so re-registering a schema still finds
        its id and version. Ids, versions and GUIDs stay. A row that no longer parses keeps its old
        fingerprint.
        """
        row = conn.execute("SELECT value FROM meta WHERE key = 'canonical_version'").fetchone()
        if row is not None and row[0] == CANONICAL_VERSION:
            return
        rows = conn.execute("SELECT id, schema_type, schema, refs, metadata, rule_set FROM schemas ORDER BY id").fetchall()
        for sid, stype, text, refs_text, md, rs in rows:
            try:
                refs = json.loads(refs_text)
                ordered = self._ref_texts(conn, refs)[1]
                metadata = normalize_metadata(json.loads(md)) if md else None
                rule_set = normalize_rule_set(json.loads(rs)) if rs else None
                canon = canonical(stype, text, refs=ordered)
                norm = canonical(stype, text, normalize=True, refs=ordered)
            except Exception:  # noqa: BLE001 - an unparseable old row is left as it was
                continue
            sorted_refs = sorted(refs, key=lambda r: (r["name"], r["subject"], r["version"]))
            conn.execute(
                "UPDATE schemas SET schema = ?, metadata = ?, rule_set = ?, hash = ?, norm_hash = ? WHERE id = ?",
                (
                    canon if stype == "AVRO" else _stored_proto_text(text) if stype == "PROTOBUF" else text,
                    _compact(metadata) if metadata else None,
                    _compact(rule_set) if rule_set else None,
                    _fingerprint(stype, canon, refs, metadata, rule_set),
                    _fingerprint(stype, norm, sorted_refs, metadata, rule_set),
                    sid,
                ),
            )
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('canonical_version', ?)", (CANONICAL_VERSION,))

    # ---------------------------------------------------------------- connections

    _POOL_SIZE = 16

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        try:
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:  # another process is converting it right now
            pass
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        """A connection from the pool (a server thread per TCP connection must not leak one)."""
        with self._pool_lock:
            if self._closed:
                raise api_error(50001, f"the registry store {self.path} is closed")
            conn = self._pool.pop() if self._pool else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        finally:
            with self._pool_lock:
                if not self._closed and len(self._pool) < self._POOL_SIZE and not conn.in_transaction:
                    self._pool.append(conn)
                    conn = None
            if conn is not None:
                conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._conn() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise api_error(50001, f"Error in the backend data store: {exc}") from exc
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                try:
                    conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    conn.execute("ROLLBACK")
                    raise api_error(50001, f"Error in the backend data store: {exc}") from exc

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._conn() as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def close(self) -> None:
        """Close the idle connections; connections in use close when their request ends."""
        with self._pool_lock:
            self._closed = True
            conns, self._pool = self._pool, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:  # pragma: no cover
                pass

    def reset(self) -> None:
        """Forget every schema, subject, config, mode, association, KEK and DEK, e.g. between tests.

        Ids are not reused (clients cache schemas by id forever): the next id continues.
        """
        with self._write() as conn:
            top = conn.execute("SELECT coalesce(max(id), 0) FROM schemas").fetchone()[0]
            nxt = conn.execute("SELECT value FROM meta WHERE key = 'next_id'").fetchone()
            for table in ("versions", "refs", "schemas", "config", "modes", "associations"):
                conn.execute(f"DELETE FROM {table}")
            # the DEK registry's tables, created on its first use (serde/registry/_dek.py)
            made = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            for table in ("dek_keks", "dek_deks"):
                if table in made:
                    conn.execute(f"DELETE FROM {table}")
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('next_id', ?)",
                (str(max(top + 1, int(nxt[0]) if nxt else 1)),),
            )

    # ---------------------------------------------------------------- helpers

    @staticmethod
    def _versions(conn: sqlite3.Connection, subject: str, deleted: bool) -> list[tuple[int, int, int]]:
        return conn.execute(
            "SELECT version, schema_id, deleted FROM versions WHERE subject = ?" + _live(deleted) + " ORDER BY version",
            (subject,),
        ).fetchall()

    @staticmethod
    def _schema_row(conn: sqlite3.Connection, schema_id: int) -> sqlite3.Row | tuple | None:
        return conn.execute(
            "SELECT id, guid, schema_type, schema, refs, metadata, rule_set FROM schemas WHERE id = ?", (schema_id,)
        ).fetchone()

    @staticmethod
    def _schema_dict(row: Sequence[Any]) -> dict[str, Any]:
        sid, guid, stype, text, refs, metadata, rule_set = row
        out: dict[str, Any] = {"id": sid, "guid": guid, "schemaType": stype, "schema": text}
        refs = json.loads(refs)
        if refs:
            out["references"] = refs
        if metadata:
            out["metadata"] = json.loads(metadata)
        if rule_set:
            out["ruleSet"] = json.loads(rule_set)
        return out

    def _resolve_version(self, conn: sqlite3.Connection, subject: str, version: object, deleted: bool) -> tuple[int, int, int]:
        """(version, schema_id, deleted) of ``subject``/``version``; 40401/40402/42202."""
        v = parse_version(version)
        rows = self._versions(conn, subject, deleted)
        if not rows:
            raise api_error(40401, f"Subject '{subject}' not found.")
        if v == "latest":
            return rows[-1]
        for row in rows:
            if row[0] == v:
                return row
        raise api_error(40402, f"Version {v} not found.")

    def _ref_texts(self, conn: sqlite3.Connection, refs: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
        """Resolve references: (refs with concrete versions, [(name, text)] transitive, deps first)."""
        resolved: list[dict[str, Any]] = []
        ordered: list[tuple[str, str]] = []
        seen: set[tuple[str, int]] = set()

        def visit(ref: Mapping[str, Any], depth: int) -> int:
            if depth > 32:
                raise api_error(42201, "Invalid schema: references nest too deeply (a cycle?)")
            subject, version = ref["subject"], ref.get("version", -1)
            try:
                v, sid, _ = self._resolve_version(conn, subject, version, deleted=True)
            except RegistryError as exc:
                raise api_error(
                    42201, f"Invalid schema: reference {ref.get('name')!r} to {subject!r} version {version} does not exist"
                ) from exc
            row = self._schema_row(conn, sid)
            assert row is not None
            if (subject, v) not in seen:
                seen.add((subject, v))
                for sub in json.loads(row[4]):
                    visit(sub, depth + 1)
                ordered.append((ref["name"], row[3]))
            return v

        for ref in refs:
            v = visit(ref, 0)
            resolved.append({"name": ref["name"], "subject": ref["subject"], "version": v})
        return resolved, ordered

    def _refs_of(self, conn: sqlite3.Connection, schema_id: int) -> dict[str, str]:
        row = self._schema_row(conn, schema_id)
        if row is None:
            return {}
        return dict(self._ref_texts(conn, json.loads(row[4]))[1])

    def _config(self, conn: sqlite3.Connection, subject: str | None) -> dict[str, Any] | None:
        row = conn.execute("SELECT data FROM config WHERE subject = ?", (subject or _GLOBAL,)).fetchone()
        return json.loads(row[0]) if row else None

    def _effective_config(self, conn: sqlite3.Connection, subject: str | None) -> dict[str, Any]:
        cfg = {"compatibilityLevel": DEFAULT_COMPATIBILITY}
        cfg.update(self._config(conn, None) or {})
        if subject:
            cfg.update(self._config(conn, subject) or {})
        return cfg

    def _mode(self, conn: sqlite3.Connection, subject: str | None) -> str | None:
        row = conn.execute("SELECT mode FROM modes WHERE subject = ?", (subject or _GLOBAL,)).fetchone()
        return row[0] if row else None

    def _effective_mode(self, conn: sqlite3.Connection, subject: str | None) -> str:
        return (subject and self._mode(conn, subject)) or self._mode(conn, None) or DEFAULT_MODE

    def _check_writable(self, conn: sqlite3.Connection, subject: str) -> str:
        mode = self._effective_mode(conn, subject)
        if mode in ("READONLY", "READONLY_OVERRIDE"):
            raise api_error(42205, f"Subject {subject} is in read-only mode")
        return mode

    def _prepare(self, conn: sqlite3.Connection, req: SchemaRequest, normalize: bool, validate: bool) -> dict[str, Any]:
        """Canonical text, fingerprints and resolved references of a request."""
        refs, ordered = self._ref_texts(conn, req.references)
        if normalize:
            refs = sorted({(r["name"], r["subject"], r["version"]) for r in refs})
            refs = [{"name": n, "subject": s, "version": v} for n, s, v in refs]
        if validate and req.schema_type != "AVRO":  # Avro is validated by canonical(new=True)
            validate_schema(req.schema_type, req.schema, ordered)
        elif req.schema_type == "JSON":  # a lookup loads the schema too: invalid is 42201
            validate_schema("JSON", req.schema, ordered)
        try:
            canon = canonical(req.schema_type, req.schema, refs=ordered, new=validate)
            norm = canonical(req.schema_type, req.schema, normalize=True, refs=ordered)
        except (ValueError, RecursionError) as exc:
            raise api_error(42201, f"Invalid schema: {exc}") from exc
        if req.schema_type == "PROTOBUF":  # text as given; a base64 descriptor as .proto text
            from serde.registry._protobuf import proto_text

            stored = proto_text(req.schema)
            ordered = [(name, proto_text(text)) for name, text in ordered]
        else:
            stored = norm if normalize else canon
        sorted_refs = sorted(refs, key=lambda r: (r["name"], r["subject"], r["version"]))
        return {
            "text": stored,
            "canon": canon,
            "norm": norm,
            "refs": refs,
            "ref_texts": dict(ordered),
            "hash": _fingerprint(req.schema_type, norm if normalize else canon, refs, req.metadata, req.rule_set),
            "norm_hash": _fingerprint(req.schema_type, norm, sorted_refs, req.metadata, req.rule_set),
        }

    def _compat_messages(
        self,
        conn: sqlite3.Connection,
        subject: str,
        req: SchemaRequest,
        prep: Mapping[str, Any],
        level: str,
        only: int | None = None,
    ) -> list[str]:
        rows = self._versions(conn, subject, deleted=False)
        group = self._effective_config(conn, subject).get("compatibilityGroup")
        if group:
            # compatibilityGroup: only versions whose metadata property of that name has the
            # new schema's value count (how a breaking change with migration rules registers)
            wanted = _property(req.metadata, str(group))
            rows = [r for r in rows if _property(_loads(self._schema_row(conn, r[1])), str(group)) == wanted]
        if only is not None:
            rows = [r for r in rows if r[0] == only]
        elif not level.endswith("_TRANSITIVE"):
            rows = rows[-1:]
        previous = []
        for version, sid, _ in reversed(rows):
            row = self._schema_row(conn, sid)
            if row is None or row[2] != req.schema_type:
                if row is not None:
                    previous.append((version, row[3], {"__type_changed__": row[2]}))
                continue
            previous.append((version, row[3], self._refs_of(conn, sid)))
        type_changed = [p for p in previous if "__type_changed__" in p[2]]
        messages: list[str] = []
        for version, _text, refs in type_changed:
            if level != "NONE":
                messages.append(
                    f"Incompatible schema type: {refs['__type_changed__']} -> {req.schema_type}"
                    f" {{oldSchemaVersion: {version}}}"
                )
        others = [p for p in previous if "__type_changed__" not in p[2]]
        messages.extend(run_compat(req.schema_type, (prep["text"], prep["ref_texts"]), others, level))
        return messages

    # ---------------------------------------------------------------- register / lookup

    def register(
        self,
        subject: str,
        req: SchemaRequest,
        *,
        normalize: bool = False,
        force: bool = False,
    ) -> dict[str, Any]:
        """Register ``req`` under ``subject``: ``{"id", "version", "guid", ...}``."""
        validate_rule_set(req.rule_set)
        check_subject(subject)
        with self._write() as conn:
            return self._register(conn, subject, req, normalize=normalize, force=force)

    def _register(
        self, conn: sqlite3.Connection, subject: str, req: SchemaRequest, *, normalize: bool, force: bool
    ) -> dict[str, Any]:
        validate_rule_set(req.rule_set)
        mode = self._check_writable(conn, subject)
        for ref in req.references:  # a topic-owned subject cannot be a reference target
            if self._associations(conn, "subject = ? AND lifecycle = 'STRONG'", (ref["subject"],)):
                raise api_error(
                    42205, f"Subject '{ref['subject']}' has a strong association and cannot be referenced"
                )
        importing = mode == "IMPORT"
        if req.id is not None and not importing:
            raise api_error(42205, "Subject is not in import mode: a schema id cannot be given")
        cfg = self._effective_config(conn, subject)
        normalize = normalize or bool(cfg.get("normalize"))
        prep = self._prepare(conn, req, normalize, validate=not importing)
        if not importing:
            contract = self._contract_config(conn, subject)
            if not any(contract.values()):  # registerOrForward: the request as sent, already there?
                found = self._find_under_subject(conn, subject, req, prep, normalize, deleted=False)
                if found is not None:
                    return self._registered(conn, found[1], subject, found[0])
            # maybePopulateFromPrevious: the previous version's contract, then defaults/overrides
            rows = self._versions(conn, subject, deleted=True)
            live = [r for r in rows if not r[2]]
            prev = self._schema_row(conn, live[-1][1]) if live else None
            new_version = (rows[-1][0] if rows else 0) + 1
            req = self._with_contract(req, contract, prev, new_version)
            prep = self._rehash(req, prep, normalize)
        # the same schema (and contract) already registered (live) under the subject?
        found = self._find_under_subject(
            conn, subject, req, prep, normalize, deleted=False, scan=not importing and req.version is None
        )
        if found is not None:
            version, sid = found
            if req.id is not None and req.id != sid:
                raise api_error(42207, f"Overwrite new schema with id {req.id} is not permitted.")
            return self._registered(conn, sid, subject, version)
        if not importing and not force:
            level = str(cfg.get("compatibilityLevel") or DEFAULT_COMPATIBILITY)
            messages = self._compat_messages(conn, subject, req, prep, level)
            if messages:
                raise _incompatible(subject, messages)
        schema_id = self._schema_id(conn, req, prep)
        top = conn.execute("SELECT max(version) FROM versions WHERE subject = ?", (subject,)).fetchone()[0]
        next_version = (top or 0) + 1
        if importing and req.version is not None:
            taken = conn.execute(
                "SELECT schema_id FROM versions WHERE subject = ? AND version = ?", (subject, req.version)
            ).fetchone()
            if taken and taken[0] != schema_id:
                raise api_error(42207, f"Version {req.version} of subject {subject} already holds another schema.")
            if taken:
                return self._registered(conn, schema_id, subject, req.version)
            next_version = req.version
        # a soft-deleted version of the same schema is tombstoned
        conn.execute("DELETE FROM versions WHERE subject = ? AND schema_id = ? AND deleted = 1", (subject, schema_id))
        conn.execute(
            "INSERT INTO versions (subject, version, schema_id, deleted, ts) VALUES (?, ?, ?, 0, ?)",
            (subject, next_version, schema_id, int(time.time() * 1000)),
        )
        return self._registered(conn, schema_id, subject, next_version)

    def _registered(self, conn: sqlite3.Connection, sid: int, subject: str, version: int) -> dict[str, Any]:
        row = self._schema_row(conn, sid)
        assert row is not None
        return {"id": sid, "version": version, "guid": row[1], "subject": subject, "schemaType": row[2]}

    def _schema_id(self, conn: sqlite3.Connection, req: SchemaRequest, prep: Mapping[str, Any]) -> int:
        """The id of this schema: reused when known, the explicit one in IMPORT, else the next."""
        if req.id is not None:
            row = conn.execute("SELECT hash FROM schemas WHERE id = ?", (req.id,)).fetchone()
            if row is not None:
                if row[0] != prep["hash"]:
                    raise api_error(42207, f"Overwrite new schema with id {req.id} is not permitted.")
                return req.id
            schema_id = req.id
        else:
            row = conn.execute("SELECT min(id) FROM schemas WHERE hash = ?", (prep["hash"],)).fetchone()
            if row[0] is not None:
                return int(row[0])
            nxt = conn.execute("SELECT value FROM meta WHERE key = 'next_id'").fetchone()
            top = conn.execute("SELECT max(id) FROM schemas").fetchone()[0] or 0
            schema_id = max(int(nxt[0]) if nxt else 1, top + 1)
        conn.execute(
            "INSERT INTO schemas (id, guid, schema_type, schema, refs, metadata, rule_set, hash, norm_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                schema_id,
                str(uuid.uuid5(_GUID_NAMESPACE, f"{schema_id}:{prep['hash']}")),
                req.schema_type,
                prep["text"],
                _compact(prep["refs"]),
                _compact(req.metadata) if req.metadata else None,
                _compact(req.rule_set) if req.rule_set else None,
                prep["hash"],
                prep["norm_hash"],
            ),
        )
        conn.executemany(
            "INSERT INTO refs (schema_id, name, subject, version) VALUES (?, ?, ?, ?)",
            [(schema_id, r["name"], r["subject"], r["version"]) for r in prep["refs"]],
        )
        nxt = conn.execute("SELECT value FROM meta WHERE key = 'next_id'").fetchone()
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('next_id', ?)",
            (str(max(schema_id + 1, int(nxt[0]) if nxt else 1)),),
        )
        return schema_id

    def lookup(self, subject: str, req: SchemaRequest, *, normalize: bool = False, deleted: bool = False) -> dict[str, Any]:
        """The version of ``subject`` holding ``req`` (40401 no subject, 40403 not under it)."""
        with self._read() as conn:
            cfg = self._effective_config(conn, subject)
            normalize = normalize or bool(cfg.get("normalize"))
            prep = self._prepare(conn, req, normalize, validate=False)  # unparseable: 42201 first
            found = self._find_under_subject(conn, subject, req, prep, normalize, deleted)
            if found is None:  # retried with the contract registering would give it
                live = self._versions(conn, subject, deleted=False)
                if live:
                    prev = self._schema_row(conn, live[-1][1])
                    merged = self._with_contract(req, self._contract_config(conn, subject), prev, None)
                    if _compact([merged.metadata or None, merged.rule_set or None], True) != _compact(
                        [req.metadata or None, req.rule_set or None], True
                    ):
                        prep = self._rehash(merged, prep, normalize)
                        found = self._find_under_subject(conn, subject, merged, prep, normalize, deleted)
            if found is not None:
                return self._version_dict(conn, subject, found[0], found[1])
            exists = conn.execute(
                "SELECT 1 FROM versions WHERE subject = ?" + _live(deleted) + " LIMIT 1", (subject,)
            ).fetchone()
            if exists is None:
                raise api_error(40401, f"Subject '{subject}' not found.")
            raise api_error(40403, "Schema not found")

    def _contract_config(self, conn: sqlite3.Connection, subject: str) -> dict[str, Any]:
        """defaultMetadata, overrideMetadata, defaultRuleSet, overrideRuleSet in scope: the
        subject's config when it has one (even without them: ``Config.mergeConfigs``), else the global."""
        own = self._config(conn, subject)
        source = own if own is not None else (self._config(conn, None) or {})
        return {k: source.get(k) for k in _CONTRACT_KEYS}

    @staticmethod
    def _with_contract(
        req: SchemaRequest, contract: Mapping[str, Any], prev: Sequence[Any] | None, new_version: int | None
    ) -> SchemaRequest:
        """``maybeSetMetadataRuleSet``: the request's metadata and rule set, else the previous
        version's, merged as merge(merge(default, specific), override); ``confluent:version``
        set to the new version when asked for (a version in the request, or already present)."""
        prev_md = json.loads(prev[5]) if prev is not None and prev[5] else None
        prev_rs = json.loads(prev[6]) if prev is not None and prev[6] else None
        specific_md = req.metadata if req.metadata is not None else prev_md
        specific_rs = req.rule_set if req.rule_set is not None else prev_rs
        md = merge_metadata(merge_metadata(contract.get("defaultMetadata"), specific_md), contract.get("overrideMetadata"))
        rs = merge_rule_sets(merge_rule_sets(contract.get("defaultRuleSet"), specific_rs), contract.get("overrideRuleSet"))
        if new_version is not None and (req.version is not None or _confluent_version(md) is not None):
            md = merge_metadata(md, {"properties": {CONFLUENT_VERSION: str(new_version)}})
        return replace(req, metadata=md, rule_set=rs)

    @staticmethod
    def _rehash(req: SchemaRequest, prep: Mapping[str, Any], normalize: bool) -> dict[str, Any]:
        """``prep`` with fingerprints for ``req``'s (merged) metadata and rule set."""
        sorted_refs = sorted(prep["refs"], key=lambda r: (r["name"], r["subject"], r["version"]))
        return {
            **prep,
            "hash": _fingerprint(
                req.schema_type, prep["norm"] if normalize else prep["canon"], prep["refs"], req.metadata, req.rule_set
            ),
            "norm_hash": _fingerprint(req.schema_type, prep["norm"], sorted_refs, req.metadata, req.rule_set),
        }

    def _find_under_subject(
        self,
        conn: sqlite3.Connection,
        subject: str,
        req: SchemaRequest,
        prep: Mapping[str, Any],
        normalize: bool,
        deleted: bool,
        *,
        scan: bool = True,
    ) -> tuple[int, int] | None:
        """(version, id) of ``subject`` holding ``req``: the same fingerprint, else (``scan``)
        ``canLookup``: the same but for a ``confluent:version`` only one side has."""
        column = "norm_hash" if normalize else "hash"
        row = conn.execute(
            f"SELECT v.version, v.schema_id FROM versions v JOIN schemas s ON s.id = v.schema_id"
            f" WHERE v.subject = ? AND s.{column} = ?" + _live(deleted).replace("deleted", "v.deleted")
            + " ORDER BY v.version DESC LIMIT 1",
            (subject, prep[column]),
        ).fetchone()
        if row is not None or not scan:
            return (row[0], row[1]) if row is not None else None
        req_ver = _version_number(req.metadata)
        rows = conn.execute(
            "SELECT v.version, v.schema_id, s.schema_type, s.schema, s.refs, s.metadata, s.rule_set"
            " FROM versions v JOIN schemas s ON s.id = v.schema_id WHERE v.subject = ?"
            + _live(deleted).replace("deleted", "v.deleted") + " ORDER BY v.version DESC",
            (subject,),
        ).fetchall()
        key = prep["norm"] if normalize else prep["canon"]
        for version, sid, stype, text, refs, md, rs in rows:
            row_md = json.loads(md) if md else None
            row_ver = _version_number(row_md)
            if stype != req.schema_type or (req_ver is None) == (row_ver is None):
                continue  # with both or neither versioned the fingerprint has decided
            if req_ver is not None and req_ver != version:
                continue
            ours = req.metadata if req_ver is None else _without_version(req.metadata)
            theirs = _without_version(row_md) if req_ver is None else row_md
            if _compact([ours or None, req.rule_set or None], True) != _compact(
                [theirs or None, json.loads(rs) if rs else None], True
            ):
                continue
            row_refs = json.loads(refs)
            if sorted(map(_compact, row_refs)) != sorted(map(_compact, prep["refs"])):
                continue
            try:
                if canonical(stype, text, normalize, self._ref_texts(conn, row_refs)[1]) == key:
                    return version, sid
            except (ValueError, RegistryError):
                continue
        return None

    def _version_dict(self, conn: sqlite3.Connection, subject: str, version: int, sid: int) -> dict[str, Any]:
        row = self._schema_row(conn, sid)
        assert row is not None
        return {"subject": subject, "version": version, **self._schema_dict(row)}

    # ---------------------------------------------------------------- reads

    def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        with self._read() as conn:
            row = self._schema_row(conn, schema_id)
            if row is None:
                raise api_error(40403, f"Schema {schema_id} not found")
            out = self._schema_dict(row)
            out["_ref_texts"] = self._refs_of(conn, schema_id)
            return out

    def schema_by_guid(self, guid: str) -> dict[str, Any]:
        with self._read() as conn:
            row = conn.execute("SELECT min(id) FROM schemas WHERE guid = ?", (guid,)).fetchone()
        if row[0] is None:
            raise api_error(40403, f"Schema {guid} not found")
        return self.schema_by_id(int(row[0]))

    def max_id(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT coalesce(max(id), 0) FROM schemas").fetchone()[0])

    def subjects_for_id(self, schema_id: int, *, deleted: bool = False, subject: str | None = None) -> list[dict[str, Any]]:
        with self._read() as conn:
            if self._schema_row(conn, schema_id) is None:
                raise api_error(40403, f"Schema {schema_id} not found")
            rows = conn.execute(
                "SELECT subject, version FROM versions WHERE schema_id = ?" + _live(deleted) + " ORDER BY subject, version",
                (schema_id,),
            ).fetchall()
        return [{"subject": s, "version": v} for s, v in rows if subject is None or s == subject]

    def subjects(self, *, prefix: str = "", deleted: bool = False, deleted_only: bool = False) -> list[str]:
        with self._read() as conn:
            where = " WHERE deleted = 1" if deleted_only else ("" if deleted else " WHERE deleted = 0")
            rows = conn.execute("SELECT DISTINCT subject FROM versions" + where + " ORDER BY subject").fetchall()
        return [r[0] for r in rows if r[0].startswith(prefix)]

    def versions(self, subject: str, *, deleted: bool = False, deleted_only: bool = False) -> list[int]:
        with self._read() as conn:
            rows = self._versions(conn, subject, deleted or deleted_only)
        if deleted_only:
            rows = [r for r in rows if r[2]]
        if not rows:
            raise api_error(40401, f"Subject '{subject}' not found.")
        return [r[0] for r in rows]

    def version(self, subject: str, version: object, *, deleted: bool = False) -> dict[str, Any]:
        with self._read() as conn:
            v, sid, is_deleted = self._resolve_version(conn, subject, version, deleted)
            out = self._version_dict(conn, subject, v, sid)
            if is_deleted:
                out["deleted"] = True
            out["_ref_texts"] = self._refs_of(conn, sid)
            return out

    def referenced_by(self, subject: str, version: object) -> list[int]:
        with self._read() as conn:
            v, _, _ = self._resolve_version(conn, subject, version, deleted=False)
            return self._referrers(conn, subject, v)

    @staticmethod
    def _referrers(conn: sqlite3.Connection, subject: str, version: int) -> list[int]:
        rows = conn.execute(
            "SELECT DISTINCT r.schema_id FROM refs r JOIN versions v ON v.schema_id = r.schema_id AND v.deleted = 0"
            " WHERE r.subject = ? AND r.version = ? ORDER BY r.schema_id",
            (subject, version),
        ).fetchall()
        return [r[0] for r in rows]

    def schemas(
        self, *, prefix: str = "", deleted: bool = False, latest_only: bool = False, offset: int = 0, limit: int = -1
    ) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT subject, version, schema_id, deleted FROM versions WHERE subject >= ?"
                + _live(deleted)
                + " ORDER BY subject, version",
                (prefix,),
            ).fetchall()
            rows = [r for r in rows if r[0].startswith(prefix)]
            if latest_only:
                latest: dict[str, tuple] = {}
                for r in rows:
                    latest[r[0]] = r
                rows = list(latest.values())
            rows = rows[offset:] if limit < 0 else rows[offset : offset + limit]
            return [self._version_dict(conn, s, v, sid) for s, v, sid, _ in rows]

    # ---------------------------------------------------------------- deletes

    def delete_subject(self, subject: str, *, permanent: bool = False) -> list[int]:
        with self._write() as conn:
            self._check_writable(conn, subject)
            if self._associations(conn, "subject = ?", (subject,)):
                raise api_error(40904, f"An association already exists for subject '{subject}'")
            return self._delete_subject(conn, subject, permanent=permanent)

    def _delete_subject(self, conn: sqlite3.Connection, subject: str, *, permanent: bool) -> list[int]:
        rows = self._versions(conn, subject, deleted=True)
        if not rows:
            raise api_error(40401, f"Subject '{subject}' not found.")
        live = [r for r in rows if not r[2]]
        if permanent and live:
            raise api_error(
                40405, f"Subject '{subject}' was not deleted first before being permanently deleted"
            )
        if not permanent and not live:
            raise api_error(40404, f"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently")
        targets = rows if permanent else live
        for version, _, _ in targets:
            if self._referrers(conn, subject, version):
                raise api_error(
                    42206,
                    f"One or more references exist to the schema {{magic=1,keytype=SCHEMA,subject={subject},version={version}}}.",
                )
        if permanent:
            conn.execute("DELETE FROM versions WHERE subject = ?", (subject,))
            conn.execute("DELETE FROM config WHERE subject = ?", (subject,))
            conn.execute("DELETE FROM modes WHERE subject = ?", (subject,))
            self._drop_orphans(conn, {r[1] for r in rows})
        else:
            conn.execute("UPDATE versions SET deleted = 1 WHERE subject = ?", (subject,))
        return [r[0] for r in targets]

    def delete_version(self, subject: str, version: object, *, permanent: bool = False) -> int:
        with self._write() as conn:
            self._check_writable(conn, subject)
            v = parse_version(version)
            rows = self._versions(conn, subject, deleted=True)
            if not rows:
                raise api_error(40401, f"Subject '{subject}' not found.")
            if v == "latest":
                candidates = rows if permanent else [r for r in rows if not r[2]]
                if not candidates:
                    raise api_error(40401, f"Subject '{subject}' not found.")
                row = candidates[-1]
            else:
                found = [r for r in rows if r[0] == v]
                if not found:
                    raise api_error(40402, f"Version {v} not found.")
                row = found[0]
            number, sid, deleted = row
            if permanent and not deleted:
                raise api_error(
                    40407,
                    f"Subject '{subject}' Version {number} was not deleted first before being permanently deleted",
                )
            if not permanent and deleted:
                raise api_error(
                    40406, f"Subject '{subject}' Version {number} was soft deleted.Set permanent=true to delete permanently"
                )
            if (
                not permanent
                and self._associations(conn, "subject = ?", (subject,))
                and not any(r[0] != number and not r[2] for r in rows)
            ):  # an associated subject keeps a live version
                raise api_error(40907, f"No active (non-deleted) version exists for subject '{subject}'")
            if self._referrers(conn, subject, number):
                raise api_error(
                    42206,
                    f"One or more references exist to the schema {{magic=1,keytype=SCHEMA,subject={subject},version={number}}}.",
                )
            if permanent:
                conn.execute("DELETE FROM versions WHERE subject = ? AND version = ?", (subject, number))
                self._drop_orphans(conn, {sid})
            else:
                conn.execute("UPDATE versions SET deleted = 1 WHERE subject = ? AND version = ?", (subject, number))
            return number

    @staticmethod
    def _drop_orphans(conn: sqlite3.Connection, ids: set[int]) -> None:
        for sid in ids:
            if conn.execute("SELECT 1 FROM versions WHERE schema_id = ? LIMIT 1", (sid,)).fetchone() is None:
                conn.execute("DELETE FROM schemas WHERE id = ?", (sid,))
                conn.execute("DELETE FROM refs WHERE schema_id = ?", (sid,))

    # ---------------------------------------------------------------- compatibility

    def check_compatibility(
        self, subject: str, req: SchemaRequest, version: object | None = None, *, normalize: bool = False
    ) -> list[str]:
        """Messages why ``req`` is incompatible ([] when compatible).

        With ``version``, against that one version only (``latest`` on a missing subject is
        compatible); without, exactly the check ``register`` would run.
        """
        with self._read() as conn:
            cfg = self._effective_config(conn, subject)
            normalize = normalize or bool(cfg.get("normalize"))
            level = str(cfg.get("compatibilityLevel") or DEFAULT_COMPATIBILITY)
            only = None
            if version is not None:
                v = parse_version(version)
                rows = self._versions(conn, subject, deleted=False)
                if v == "latest":
                    if not rows:
                        validate_schema(req.schema_type, req.schema, self._ref_texts(conn, req.references)[1])
                        return []
                    only = rows[-1][0]
                else:
                    if not any(r[0] == v for r in rows):
                        raise api_error(40402, f"Version {v} not found.")
                    only = v
                if level.endswith("_TRANSITIVE"):
                    level = _base_level(level)
            prep = self._prepare(conn, req, normalize, validate=True)
            return self._compat_messages(conn, subject, req, prep, level, only=only)

    # ---------------------------------------------------------------- config and mode

    def get_config(self, subject: str | None = None, *, default_to_global: bool = False) -> dict[str, Any]:
        with self._read() as conn:
            if subject is None:
                return self._effective_config(conn, None)
            own = self._config(conn, subject)
            if own is None and not default_to_global:
                raise api_error(40408, f"Subject '{subject}' does not have subject-level compatibility configured")
            return self._effective_config(conn, subject) if default_to_global else dict(own or {})

    def set_config(self, subject: str | None, update: Mapping[str, Any]) -> dict[str, Any]:
        if subject is not None:
            check_subject(subject)
        level = update.get("compatibility", update.get("compatibilityLevel"))
        body = {k: v for k, v in update.items() if k in _CONFIG_KEYS and v is not None}
        body.pop("compatibilityLevel", None)
        cleared = [k for k in _CONTRACT_KEYS if k in update and update[k] is None]  # explicit null: unset
        for key in ("defaultMetadata", "overrideMetadata"):
            if key in body:
                body[key] = normalize_metadata(body[key])
        for key in ("defaultRuleSet", "overrideRuleSet"):
            if key in body:
                body[key] = normalize_rule_set(body[key])
                validate_rule_set(body[key])
        if level is not None:
            from serde.compat import LEVELS  # the seven levels the checks know (imported lazily, as check is)

            if not isinstance(level, str) or level.upper() not in LEVELS:
                raise api_error(
                    42203,
                    "Invalid compatibility level. Valid values are none, backward, forward, full, "
                    "backward_transitive, forward_transitive, and full_transitive",
                )
            body["compatibilityLevel"] = level.upper()
        if "normalize" in body and not isinstance(body["normalize"], bool):
            raise api_error(42203, "Invalid config: 'normalize' must be a boolean")
        with self._write() as conn:
            current = self._config(conn, subject) or {}
            current.update(body)
            for key in cleared:
                current.pop(key, None)
            conn.execute(
                "INSERT OR REPLACE INTO config (subject, data) VALUES (?, ?)", (subject or _GLOBAL, _compact(current))
            )
        echo = {k: v for k, v in body.items() if k != "compatibilityLevel"}
        if "compatibilityLevel" in body:
            echo = {"compatibility": body["compatibilityLevel"], **echo}
        return echo

    def delete_config(self, subject: str | None = None) -> dict[str, Any]:
        with self._write() as conn:
            if subject is None:
                previous = self._effective_config(conn, None)
                conn.execute("DELETE FROM config WHERE subject = ?", (_GLOBAL,))
                return previous
            own = self._config(conn, subject)
            if own is None:
                raise api_error(40401, f"Subject '{subject}' not found.")
            conn.execute("DELETE FROM config WHERE subject = ?", (subject,))
            return own

    def get_mode(self, subject: str | None = None, *, default_to_global: bool = False) -> str:
        with self._read() as conn:
            if subject is None:
                return self._mode(conn, None) or DEFAULT_MODE
            own = self._mode(conn, subject)
            if own is None:
                if not default_to_global:
                    raise api_error(40409, f"Subject '{subject}' does not have subject-level mode configured")
                return self._mode(conn, None) or DEFAULT_MODE
            return own

    def set_mode(self, subject: str | None, mode: object, *, force: bool = False) -> str:
        if subject is not None:
            check_subject(subject)
        if not isinstance(mode, str) or mode.upper() not in MODES:
            raise api_error(42204, "Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE, IMPORT")
        mode = mode.upper()
        with self._write() as conn:
            if mode == "IMPORT" and not force:
                if subject is None:
                    live = conn.execute("SELECT 1 FROM versions WHERE deleted = 0 LIMIT 1").fetchone()
                else:
                    live = conn.execute(
                        "SELECT 1 FROM versions WHERE subject = ? AND deleted = 0 LIMIT 1", (subject,)
                    ).fetchone()
                if live is not None:
                    raise api_error(
                        42205, "Cannot import since found existing subjects (use force=true to override)"
                    )
            conn.execute("INSERT OR REPLACE INTO modes (subject, mode) VALUES (?, ?)", (subject or _GLOBAL, mode))
        return mode

    def delete_mode(self, subject: str | None = None) -> str:
        with self._write() as conn:
            previous = self._mode(conn, subject)
            if previous is None:
                if subject is None:
                    return DEFAULT_MODE
                raise api_error(40409, f"Subject '{subject}' does not have subject-level mode configured")
            conn.execute("DELETE FROM modes WHERE subject = ?", (subject or _GLOBAL,))
            return previous

    # ---------------------------------------------------------------- associations

    @staticmethod
    def _associations(
        conn: sqlite3.Connection,
        where: str,
        params: Sequence[Any],
        *,
        resource_type: str | None = None,
        association_types: Sequence[str] = (),
        lifecycle: str | None = None,
    ) -> list[dict[str, Any]]:
        sql, args = f"SELECT {_ASSOCIATION_COLUMNS} FROM associations WHERE {where}", list(params)
        if resource_type is not None:
            sql, args = sql + " AND resource_type = ?", [*args, resource_type]
        if lifecycle is not None:
            sql, args = sql + " AND lifecycle = ?", [*args, lifecycle]
        wanted = set(association_types)  # filtered here: any number of query values, no SQL variable limit
        return [
            _association_entity(r)
            for r in conn.execute(sql + _ASSOCIATION_ORDER, args).fetchall()
            if not wanted or r[5] in wanted
        ]

    def associations_by_subject(
        self, subject: str, *, resource_type: str | None = "topic", association_types: Sequence[str] = (), lifecycle: str | None = None
    ) -> list[dict[str, Any]]:
        with self._read() as conn:
            return self._associations(
                conn, "subject = ?", (_unqualified(subject),),
                resource_type=resource_type, association_types=association_types, lifecycle=lifecycle,
            )

    def associations_by_resource_id(
        self, resource_id: str, *, resource_type: str | None = "topic", association_types: Sequence[str] = (), lifecycle: str | None = None
    ) -> list[dict[str, Any]]:
        with self._read() as conn:
            return self._associations(
                conn, "resource_id = ?", (resource_id,),
                resource_type=resource_type, association_types=association_types, lifecycle=lifecycle,
            )

    def associations_by_resource_name(
        self,
        name: str,
        namespace: str,
        *,
        resource_type: str | None = "topic",
        association_types: Sequence[str] = (),
        lifecycle: str | None = None,
    ) -> list[dict[str, Any]]:
        """The associations of resource ``namespace``/``name``; ``-`` as either is a wildcard."""
        with self._read() as conn:
            return self._associations_by_name(conn, name, namespace, resource_type, association_types, lifecycle)

    def _associations_by_name(
        self,
        conn: sqlite3.Connection,
        name: str,
        namespace: str,
        resource_type: str | None,
        association_types: Sequence[str] = (),
        lifecycle: str | None = None,
    ) -> list[dict[str, Any]]:
        clauses, params = [], []
        if name != RESOURCE_WILDCARD:
            clauses.append("resource_name = ?")
            params.append(name)
        if namespace != RESOURCE_WILDCARD:
            clauses.append("resource_namespace = ?")
            params.append(namespace)
        return self._associations(
            conn, " AND ".join(clauses) or "1", params,
            resource_type=resource_type, association_types=association_types, lifecycle=lifecycle,
        )

    def create_or_update_association(
        self, request: AssociationRequest, *, is_create: bool, dry_run: bool = False
    ) -> dict[str, Any]:
        """``POST /associations`` (``is_create``) or ``PUT /associations/resources/{id}``.

        Follows ``AbstractSchemaRegistry.createOrUpdateAssociation``: validate every
        association against the stored ones, then register the schemas given inline (STRONG
        associations own their subject), then write; all in one transaction, so a failure
        leaves nothing behind. Returns an ``AssociationResponse``.
        """
        request.validate(is_create, dry_run)
        with self._read() if dry_run else self._write() as conn:
            return self._create_or_update_association(conn, request, is_create, dry_run)

    def _create_or_update_association(
        self, conn: sqlite3.Connection, request: AssociationRequest, is_create: bool, dry_run: bool
    ) -> dict[str, Any]:
        name, namespace = str(request.resource_name), str(request.resource_namespace)
        rid, rtype = request.resource_id, request.resource_type
        infos = request.associations
        for info in infos:
            if info.subject is not None:
                info.subject = _unqualified(info.subject)
                self._check_writable(conn, info.subject)
        by_type_request: dict[str, AssociationInfoRequest] = {}
        for info in infos:
            atype = str(info.association_type)
            if atype in by_type_request:
                raise invalid_association(
                    "associationType", f"may only appear once per request, but '{atype}' appears more than once"
                )
            by_type_request[atype] = info
        types = list(by_type_request)
        existing = (
            self._associations(conn, "resource_id = ?", (rid,), resource_type=rtype, association_types=types)
            if rid is not None
            else []
        )
        if not existing and is_create and dry_run and rid is None:
            # before the topic exists the caller has no id yet: recognise a retry by name
            existing = _most_recent_resource(self._associations_by_name(conn, name, namespace, rtype, types))
        stored = {a["associationType"]: a for a in existing}
        skip: set[str] = set()
        for info in infos:
            atype = str(info.association_type)
            old = stored.get(atype)
            if old is None and not is_create:
                info.apply_defaults(False)
            default = request.default_subject(atype)
            if info.subject is None:
                if old is not None:
                    info.subject = old["subject"]
                elif info.lifecycle == "STRONG":
                    info.subject = default
                else:
                    raise invalid_association("subject", "must be provided for WEAK associations")
            subject = info.subject
            lifecycle = info.lifecycle or (old["lifecycle"] if old else None)
            if lifecycle is None:
                raise invalid_association("lifecycle", "lifecycle must be set")
            if lifecycle == "WEAK":
                if info.schema is not None:
                    raise invalid_association("lifecycle", "cannot be WEAK when schema is provided")
                if subject == default:
                    raise invalid_association("subject", f"WEAK associations cannot use subject '{default}'")
            is_frozen = old["_frozen"] if old else bool(info.frozen)
            requested = info.frozen if info.frozen is not None else is_frozen
            if requested != (lifecycle == "STRONG"):
                raise invalid_association(
                    "frozen", f"association with lifecycle of {lifecycle} cannot be frozen={str(requested).lower()}"
                )
            if is_frozen and subject != default:
                raise invalid_association("subject", f"frozen associations must use subject '{default}'")
            if old is None:
                importing = self._effective_mode(conn, subject) == "IMPORT"
                if not is_create and lifecycle == "STRONG" and not importing:
                    raise invalid_association(
                        "lifecycle",
                        "cannot be STRONG when creating an association; STRONG associations must be created with the topic",
                    )
                if info.frozen and not importing:
                    if is_create and info.schema is None:
                        raise invalid_association("schema", "schema must be provided when creating a frozen association")
                    live = self._versions(conn, subject, deleted=False)
                    if live and (
                        info.schema is None
                        or live[-1][0] != 1
                        or not self._holds(conn, subject, info.schema, bool(info.normalize))
                    ):
                        raise invalid_association(
                            "frozen", "cannot create a frozen association when schemas already exist in the subject"
                        )
                continue
            if (
                old["subject"] == subject
                and (info.lifecycle is None or info.lifecycle == old["lifecycle"])
                and (info.frozen is None or info.frozen == old["_frozen"])
            ):  # the same association again: nothing to do (an idempotent retry)
                if is_create and info.schema is not None and not self._holds(conn, subject, info.schema, bool(info.normalize)):
                    raise self._resource_exists(atype, old["resourceName"])
                skip.add(atype)
                continue
            if is_create:
                raise self._resource_exists(atype, old["resourceName"])
            if info.lifecycle is None and info.schema is None:
                raise invalid_association("lifecycle", "at least lifecycle or schema must be provided for update")
            if old["subject"] != subject:
                raise invalid_association(
                    "subject", f"subject of association cannot be changed from '{old['subject']}' to '{subject}'"
                )
            if old["lifecycle"] == "STRONG" and info.lifecycle == "WEAK" and old["subject"] == default:
                raise invalid_association(
                    "lifecycle", f"cannot change to WEAK when subject matches default format '{default}'"
                )
            if info.frozen is not None and info.frozen != old["_frozen"]:
                raise invalid_association("frozen", "frozen attribute of association cannot be changed")
            if old["_frozen"]:
                raise api_error(40908, f"The association of type  '{atype}' is frozen for subject '{old['subject']}'")

        self._check_uniform_lifecycle(conn, request)

        for info in infos:
            atype, subject = str(info.association_type), str(info.subject)
            old = stored.get(atype)
            if info.schema is not None and self._effective_mode(conn, subject) == "IMPORT":
                raise invalid_association("schema", f"cannot be provided while subject '{subject}' is in IMPORT mode")
            if info.schema is None and not self._versions(conn, subject, deleted=False):
                raise api_error(40907, f"No active (non-deleted) version exists for subject '{subject}'")
            others = [
                a
                for a in self._associations(conn, "subject = ?", (subject,))
                if old is None
                or (a["resourceId"], a["resourceType"], a["associationType"])
                != (old["resourceId"], old["resourceType"], old["associationType"])
            ]
            lifecycle = info.lifecycle or (old["lifecycle"] if old else None)
            if lifecycle == "STRONG":
                if others:
                    raise api_error(40904, f"An association already exists for subject '{subject}'")
                referenced = conn.execute("SELECT 1 FROM refs WHERE subject = ? LIMIT 1", (subject,)).fetchone()
                in_request = any(
                    ref["subject"] == subject for other in infos if other.schema is not None for ref in other.schema.references
                )
                if referenced or in_request:
                    raise api_error(42206, f"One or more references exist to subject '{subject}'")
            elif lifecycle == "WEAK":
                if info.frozen:
                    raise invalid_association("frozen", "association with lifecycle of WEAK cannot be frozen")
                if any(a["lifecycle"] == "STRONG" for a in others):
                    raise api_error(40905, f"A strong association already exists for subject '{subject}'")

        response: dict[str, Any] = {
            "resourceName": name,
            "resourceNamespace": namespace,
            "resourceId": rid,
            "resourceType": rtype,
            "associations": [],
        }
        if dry_run:
            for info in infos:  # what registering would find wrong: invalid or incompatible schemas
                if info.schema is not None:
                    self._check_registrable(conn, str(info.subject), info.schema, bool(info.normalize))
            return response

        registered: dict[str, dict[str, Any]] = {}
        for info in infos:
            if info.schema is None:
                continue
            subject = str(info.subject)
            check_subject(subject)
            out = self._register(conn, subject, info.schema, normalize=bool(info.normalize), force=False)
            registered[str(info.association_type)] = self._version_dict(conn, subject, out["version"], out["id"])

        now = int(time.time() * 1000)
        for info in infos:
            atype = str(info.association_type)
            if atype in skip:
                continue
            old = stored.get(atype)
            if old is None:
                guid, create_ts = str(uuid.uuid4()), now
                resource = (name, namespace, str(rid), str(rtype))
                subject, lifecycle, frozen = str(info.subject), str(info.lifecycle), bool(info.frozen)
            else:
                guid, create_ts = old["guid"], old["createTs"]
                resource = (old["resourceName"], old["resourceNamespace"], old["resourceId"], old["resourceType"])
                subject = old["subject"]
                lifecycle = info.lifecycle or old["lifecycle"]
                frozen = info.frozen if info.frozen is not None else old["_frozen"]
            conn.execute(
                "DELETE FROM associations WHERE guid = ? OR (resource_name = ? AND resource_namespace = ?"
                " AND resource_type = ? AND association_type = ? AND subject = ?)",
                (guid, resource[0], resource[1], resource[3], atype, subject),
            )
            conn.execute(
                f"INSERT INTO associations ({_ASSOCIATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (guid, *resource, atype, subject, lifecycle, int(frozen), create_ts, now),
            )
            entry: dict[str, Any] = {"subject": _unqualified(subject), "associationType": atype, "lifecycle": lifecycle}
            if frozen != (lifecycle == "STRONG"):
                entry["frozen"] = frozen
            if atype in registered:
                entry["schema"] = registered[atype]
            response["associations"].append(entry)
        return response

    @staticmethod
    def _resource_exists(association_type: str, resource_name: str) -> RegistryError:
        return api_error(
            40903, f"An association of type '{association_type}' already exists for resource '{resource_name}'"
        )

    def _holds(self, conn: sqlite3.Connection, subject: str, req: SchemaRequest, normalize: bool) -> bool:
        """Whether ``req`` is a live version of ``subject``."""
        prep = self._prepare(conn, req, normalize, validate=False)
        column = "norm_hash" if normalize else "hash"
        return (
            conn.execute(
                f"SELECT 1 FROM versions v JOIN schemas s ON s.id = v.schema_id"
                f" WHERE v.subject = ? AND v.deleted = 0 AND s.{column} = ? LIMIT 1",
                (subject, prep[column]),
            ).fetchone()
            is not None
        )

    def _check_registrable(self, conn: sqlite3.Connection, subject: str, req: SchemaRequest, normalize: bool) -> None:
        """What registering ``req`` under ``subject`` would refuse, without registering it."""
        check_subject(subject)
        cfg = self._effective_config(conn, subject)
        normalize = normalize or bool(cfg.get("normalize"))
        prep = self._prepare(conn, req, normalize, validate=True)
        if self._holds(conn, subject, req, normalize):
            return
        level = str(cfg.get("compatibilityLevel") or DEFAULT_COMPATIBILITY)
        messages = self._compat_messages(conn, subject, req, prep, level)
        if messages:
            raise _incompatible(subject, messages)

    def _check_uniform_lifecycle(self, conn: sqlite3.Connection, request: AssociationRequest) -> None:
        """A resource's associations are all STRONG (topic-owned) or all WEAK (shared)."""
        if request.resource_id is not None:
            current = self._associations(
                conn, "resource_id = ?", (request.resource_id,), resource_type=request.resource_type
            )
        else:
            current = _most_recent_resource(
                self._associations_by_name(
                    conn, str(request.resource_name), str(request.resource_namespace), request.resource_type
                )
            )
        lifecycles = {a["associationType"]: a["lifecycle"] for a in current}
        for info in request.associations:
            lifecycle = info.lifecycle or lifecycles.get(str(info.association_type))
            if lifecycle is not None:
                lifecycles[str(info.association_type)] = lifecycle
        if len(set(lifecycles.values())) > 1:
            detail = ", ".join(f"{k}={v}" for k, v in lifecycles.items())
            raise invalid_association(
                "lifecycle", f"all associations for a resource must have the same lifecycle, but got {detail}"
            )

    def delete_associations(
        self,
        resource_id: str,
        *,
        resource_type: str = "topic",
        association_types: Sequence[str] = (),
        cascade_lifecycle: bool = False,
        dry_run: bool = False,
    ) -> None:
        """``DELETE /associations/resources/{id}``; with ``cascade_lifecycle`` a STRONG
        association's subject goes too (soft, then permanently). 40410 when none matches."""
        with self._write() as conn:
            old = self._associations(
                conn, "resource_id = ?", (resource_id,), resource_type=resource_type, association_types=association_types
            )
            if not old:
                raise api_error(40410, f"Association for '{resource_id}' not found.")
            for a in old:
                self._check_writable(conn, a["subject"])
                if not cascade_lifecycle and a["_frozen"]:
                    raise api_error(
                        40908, f"The association of type  '{a['associationType']}' is frozen for subject '{a['subject']}'"
                    )
            if dry_run:
                return
            for a in old:
                conn.execute("DELETE FROM associations WHERE guid = ?", (a["guid"],))
                subject = a["subject"]
                if (
                    cascade_lifecycle
                    and a["lifecycle"] == "STRONG"
                    and self._effective_mode(conn, subject) != "IMPORT"
                    and not self._associations(conn, "subject = ?", (subject,))
                ):
                    if self._versions(conn, subject, deleted=False):
                        self._delete_subject(conn, subject, permanent=False)
                    if self._versions(conn, subject, deleted=True):
                        self._delete_subject(conn, subject, permanent=True)
