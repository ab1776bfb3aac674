"""The Confluent REST API conformance suite, run over HTTP and in process (see conftest).

Every endpoint confluent-kafka's SchemaRegistryClient has is driven through the client;
the rest, and every error code, through raw HTTP.
"""
from __future__ import annotations

import base64
import json

import pytest
from google.protobuf import descriptor_pb2
from confluent_kafka.schema_registry import (
    Metadata,
    MetadataProperties,
    Schema,
    SchemaReference,
    ServerConfig,
)
from confluent_kafka.schema_registry.error import SchemaRegistryError

V1 = json.dumps({"type": "record", "name": "User", "namespace": "ex", "fields": [{"name": "name", "type": "string"}]})
V2 = json.dumps(
    {
        "type": "record",
        "name": "User",
        "namespace": "ex",
        "fields": [{"name": "name", "type": "string"}, {"name": "age", "type": "int", "default": 0}],
    }
)
BREAKING = json.dumps({"type": "record", "name": "User", "namespace": "ex", "fields": [{"name": "name", "type": "int"}]})
OTHER = json.dumps({"type": "record", "name": "Other", "fields": [{"name": "x", "type": "long"}]})
JSON_V1 = json.dumps({"type": "object", "properties": {"a": {"type": "integer"}}})
PROTO = 'syntax = "proto3";\npackage ex;\nmessage Ping { string id = 1; }\n'


def avro(text: str = V1, refs: list | None = None) -> Schema:
    return Schema(text, "AVRO", references=refs or [])


def expect(call, code: int, status: int | None = None):
    with pytest.raises(SchemaRegistryError) as info:
        call()
    assert info.value.error_code == code, info.value
    assert info.value.http_status_code == (status or int(str(code)[:3]))
    return info.value


def raw(resp, code: int) -> dict:
    assert resp.status_code == int(str(code)[:3]), resp.text
    body = resp.json()
    assert body["error_code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    return body


# ------------------------------------------------------------------ ids and versions


def test_register_assigns_global_ids_and_reuses_them(registry):
    c = registry.client
    assert c.register_schema("a-value", avro()) == 1
    assert c.register_schema("b-value", avro()) == 1  # same schema, other subject: same id
    spaced = json.dumps(json.loads(V1), indent=4)
    assert registry.http.post("/subjects/c-value/versions", json={"schema": spaced}).json()["id"] == 1
    assert c.register_schema("a-value", avro(V2)) == 2
    # the same schema again under the same subject: the existing id and version
    again = registry.http.post("/subjects/a-value/versions", json={"schema": V1}).json()
    assert again["id"] == 1 and again["version"] == 1
    assert c.get_versions("a-value") == [1, 2]


def test_register_full_response_and_get_schema(registry):
    c = registry.client
    reg = c.register_schema_full_response("s", avro())
    assert (reg.schema_id, reg.version) == (1, 1)
    fetched = c.get_schema(1)
    assert json.loads(fetched.schema_str) == json.loads(V1)
    assert fetched.schema_type == "AVRO"
    assert c.get_schema_by_guid(reg.guid).schema_str == fetched.schema_str
    expect(lambda: c.get_schema(99), 40403)
    assert raw(registry.http.get("/schemas/ids/abc"), 404)  # JAX-RS: an Integer path param that does not convert
    raw(registry.http.get("/schemas/guids/00000000-0000-0000-0000-000000000000"), 40403)


def test_schema_types_and_contexts(registry):
    assert registry.client.get_schema_types() == ["AVRO", "JSON", "PROTOBUF"]
    assert registry.client.get_contexts() == ["."]


def test_subjects_and_versions_by_id(registry):
    c = registry.client
    c.register_schema("b", avro())
    c.register_schema("a", avro())
    assert c.get_subjects_by_schema_id(1) == ["a", "b"]
    versions = c.get_schema_versions(1)
    assert [(v.subject, v.version) for v in versions] == [("a", 1), ("b", 1)]
    c.delete_subject("a")
    assert c.get_subjects_by_schema_id(1) == ["b"]
    assert c.get_subjects_by_schema_id(1, deleted=True) == ["a", "b"]
    expect(lambda: c.get_subjects_by_schema_id(7), 40403)
    expect(lambda: c.get_schema_versions(7), 40403)
    assert registry.http.get("/schemas/ids/1/subjects", params={"subject": "b"}).json() == ["b"]


def test_lookup(registry):
    c = registry.client
    c.register_schema("s", avro())
    c.register_schema("s", avro(V2))
    found = c.lookup_schema("s", avro(json.dumps(json.loads(V1), indent=2)))
    assert (found.schema_id, found.version, found.subject) == (1, 1, "s")
    expect(lambda: c.lookup_schema("nope", avro()), 40401)
    expect(lambda: c.lookup_schema("s", avro(OTHER)), 40403)
    c.delete_version("s", 1)
    expect(lambda: registry.client.lookup_schema("s", avro(V1 + " ")), 40403)
    body = registry.http.post("/subjects/s?deleted=true", json={"schema": V1}).json()
    assert body["version"] == 1 and body["id"] == 1


def test_latest_version_and_versions(registry):
    c = registry.client
    c.register_schema("s", avro())
    c.register_schema("s", avro(V2))
    latest = c.get_latest_version("s")
    assert (latest.version, latest.schema_id) == (2, 2)
    assert c.get_version("s", 1).schema_id == 1
    assert registry.http.get("/subjects/s/versions/-1").json()["version"] == 2
    assert c.get_versions("s") == [1, 2]
    expect(lambda: c.get_latest_version("missing"), 40401)
    expect(lambda: c.get_version("s", 9), 40402)
    expect(lambda: c.get_versions("missing"), 40401)


@pytest.mark.parametrize("bad", ["0", "abc", "-2", "2147483648"])
def test_invalid_version_is_42202(registry, bad):
    registry.client.register_schema("s", avro())
    raw(registry.http.get(f"/subjects/s/versions/{bad}"), 42202)
    raw(registry.http.delete(f"/subjects/s/versions/{bad}"), 42202)
    raw(registry.http.post(f"/compatibility/subjects/s/versions/{bad}", json={"schema": V1}), 42202)


def test_schema_only_endpoints(registry):
    registry.client.register_schema("s", avro())
    for path in ("/subjects/s/versions/1/schema", "/subjects/s/versions/latest/schema", "/schemas/ids/1/schema"):
        resp = registry.http.get(path)
        assert resp.status_code == 200
        assert json.loads(resp.text) == json.loads(V1)
    raw(registry.http.get("/schemas/ids/5/schema"), 40403)
    raw(registry.http.get("/subjects/s/versions/4/schema"), 40402)


def test_list_schemas(registry):
    c = registry.client
    c.register_schema("p-1", avro())
    c.register_schema("p-1", avro(V2))
    c.register_schema("q-1", avro(OTHER))
    all_ = registry.http.get("/schemas").json()
    assert [(s["subject"], s["version"]) for s in all_] == [("p-1", 1), ("p-1", 2), ("q-1", 1)]
    assert all_[0]["schemaType"] == "AVRO"
    latest = registry.http.get("/schemas", params={"latestOnly": "true", "subjectPrefix": "p"}).json()
    assert [(s["subject"], s["version"]) for s in latest] == [("p-1", 2)]
    page = registry.http.get("/schemas", params={"offset": 1, "limit": 1}).json()
    assert [(s["subject"], s["version"]) for s in page] == [("p-1", 2)]
    raw(registry.http.get("/schemas", params={"offset": "x"}), 404)  # JAX-RS: a query param that does not convert


def test_subject_listing_filters(registry):
    c = registry.client
    for subject in ("alpha", "beta", "alpine"):
        c.register_schema(subject, avro())
    c.delete_subject("beta")
    assert c.get_subjects() == ["alpha", "alpine"]
    assert c.get_subjects(deleted=True) == ["alpha", "alpine", "beta"]
    assert c.get_subjects(deleted_only=True) == ["beta"]
    assert c.get_subjects(subject_prefix="alp") == ["alpha", "alpine"]
    assert registry.http.get("/subjects", params={"deletedOnly": "true"}).json() == ["beta"]


# ------------------------------------------------------------------ deletes


def test_soft_then_permanent_subject_delete(registry):
    c = registry.client
    c.register_schema("s", avro())
    c.register_schema("s", avro(V2))
    expect(lambda: c.delete_subject("s", permanent=True), 40405)
    assert c.delete_subject("s") == [1, 2]
    expect(lambda: c.delete_subject("s"), 40404)
    expect(lambda: c.get_versions("s"), 40401)  # every version soft-deleted
    assert c.get_versions("s", deleted=True) == [1, 2]
    assert c.get_schema(1).schema_str  # still fetchable by id
    # versions continue after a soft delete
    assert c.register_schema_full_response("s", avro(OTHER)).version == 3
    c.delete_subject("s")
    assert c.delete_subject("s", permanent=True) == [1, 2, 3]
    expect(lambda: c.delete_subject("s"), 40401)
    expect(lambda: c.get_schema(3), 40403)  # gone for good
    # numbering restarts after a permanent delete, ids do not
    reg = c.register_schema_full_response("s", avro(BREAKING))
    assert reg.version == 1 and reg.schema_id == 4


def test_version_delete_preconditions(registry):
    c = registry.client
    c.register_schema("s", avro())
    c.register_schema("s", avro(V2))
    expect(lambda: c.delete_version("s", 1, permanent=True), 40407)
    assert c.delete_version("s", 1) == 1
    expect(lambda: c.delete_version("s", 1), 40406)
    expect(lambda: c.get_version("s", 1), 40402)
    assert c.get_version("s", 1, deleted=True).schema_id == 1
    assert c.get_versions("s") == [2]
    assert c.get_versions("s", deleted_only=True) == [1]
    assert c.delete_version("s", 1, permanent=True) == 1
    expect(lambda: c.delete_version("s", 1), 40402)
    expect(lambda: c.delete_version("missing", 1), 40401)
    assert registry.http.delete("/subjects/s/versions/latest").json() == 2
    raw(registry.http.delete("/subjects/s/versions/latest"), 40401)
    raw(registry.http.delete("/subjects/missing"), 40401)


def test_reregistering_a_soft_deleted_schema_gets_a_new_version(registry):
    c = registry.client
    c.register_schema("s", avro())
    c.delete_version("s", 1)
    reg = registry.http.post("/subjects/s/versions", json={"schema": V1}).json()
    assert (reg["id"], reg["version"]) == (1, 2)
    assert c.get_versions("s", deleted=True) == [2]  # the old version was tombstoned


# ------------------------------------------------------------------ references

ADDRESS = json.dumps({"type": "record", "name": "Address", "namespace": "ex", "fields": [{"name": "city", "type": "string"}]})
PERSON = json.dumps(
    {"type": "record", "name": "Person", "namespace": "ex", "fields": [{"name": "home", "type": "ex.Address"}]}
)


def test_references_and_referencedby(registry):
    c = registry.client
    c.register_schema("address", avro(ADDRESS))
    ref = SchemaReference("ex.Address", "address", 1)
    pid = c.register_schema("person", avro(PERSON, [ref]))
    fetched = c.get_schema(pid)
    assert [(r.name, r.subject, r.version) for r in fetched.references] == [("ex.Address", "address", 1)]
    assert c.get_referenced_by("address", 1) == [pid]
    assert registry.http.get("/subjects/address/versions/latest/referencedby").json() == [pid]
    expect(lambda: c.delete_version("address", 1), 42206)
    expect(lambda: c.delete_subject("address"), 42206)
    # the same text with other references is another schema
    unresolved = expect(lambda: c.register_schema("person2", avro(PERSON)), 42201)
    assert "Address" in unresolved.error_message
    expect(lambda: c.register_schema("p3", avro(PERSON, [SchemaReference("ex.Address", "nope", 1)])), 42201)
    expect(lambda: c.register_schema("p3", avro(PERSON, [SchemaReference("ex.Address", "address", 5)])), 42201)
    # once the referrer is gone, the reference can go
    c.delete_subject("person")
    assert c.get_referenced_by("address", 1) == []
    assert c.delete_subject("address") == [1]
    expect(lambda: c.get_referenced_by("address", 1), 40401)


def test_reference_version_latest_is_resolved(registry):
    c = registry.client
    c.register_schema("address", avro(ADDRESS))
    pid = c.register_schema("person", avro(PERSON, [SchemaReference("ex.Address", "address", -1)]))
    assert c.get_schema(pid).references[0].version == 1


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    "body",
    [
        {"schema": "{not json"},
        {"schema": json.dumps({"type": "record", "name": "A", "fields": [{"name": "a", "type": "int", "default": "x"}]})},
        {"schema": json.dumps({"type": "record", "name": "A", "fields": [{"name": "a", "type": "nosuchtype"}]})},
        {"schema": V1, "schemaType": "XML"},
        {"schema": "[1, 2]", "schemaType": "JSON"},
        {"schema": json.dumps({"type": 12}), "schemaType": "JSON"},
        {"schema": ""},
        {"schemaType": "AVRO"},
        {"schema": V1, "references": "nope"},
        {"schema": V1, "references": [{"name": 1}]},
        {"schema": V1, "id": "x"},
        ["not", "an", "object"],
    ],
)
def test_invalid_schemas_are_42201(registry, body):
    raw(registry.http.post("/subjects/s/versions", json=body), 42201)


def test_invalid_protobuf_is_42201(registry):
    raw(registry.http.post("/subjects/s/versions", json={"schema": "message {", "schemaType": "PROTOBUF"}), 42201)


def test_json_and_protobuf_schemas(registry):
    c = registry.client
    jid = c.register_schema("j", Schema(JSON_V1, "JSON"))
    assert c.get_schema(jid).schema_type == "JSON"
    assert c.register_schema("j2", Schema(json.dumps(json.loads(JSON_V1), indent=2), "JSON")) == jid
    pid = c.register_schema("p", Schema(PROTO, "PROTOBUF"))
    assert c.get_schema(pid).schema_str == PROTO
    # whitespace-only differences share the id
    assert c.register_schema("p2", Schema(PROTO.replace("\n", "\n\n"), "PROTOBUF")) == pid
    serialized = registry.http.get(f"/schemas/ids/{pid}", params={"format": "serialized"}).json()["schema"]
    fd = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(serialized))
    assert [m.name for m in fd.message_type] == ["Ping"]
    by_version = registry.http.get("/subjects/p/versions/1", params={"format": "serialized"}).json()["schema"]
    assert by_version == serialized
    # a base64 FileDescriptorProto is the same schema: the same id (tests/registry/test_protobuf_confluent.py)
    assert c.register_schema("p3", Schema(serialized, "PROTOBUF")) == pid


def test_changing_schema_type_is_incompatible(registry):
    c = registry.client
    c.register_schema("s", avro())
    expect(lambda: c.register_schema("s", Schema(JSON_V1, "JSON")), 409)


def test_invalid_subject_name_is_42208(registry):
    raw(registry.http.post("/subjects/bad%01name/versions", json={"schema": V1}), 42208)
    raw(registry.http.put("/config/bad%01name", json={"compatibility": "NONE"}), 42208)
    raw(registry.http.put("/mode/bad%01name", json={"mode": "READONLY"}), 42208)


def test_subject_with_a_slash(registry):
    c = registry.client
    assert c.register_schema("team/orders-value", avro()) == 1
    assert c.get_subjects() == ["team/orders-value"]
    assert c.get_latest_version("team/orders-value").schema_id == 1


# ------------------------------------------------------------------ normalize


def test_normalize(registry):
    c = registry.client
    a = json.dumps({"type": "record", "name": "R", "namespace": "n", "fields": [{"type": "int", "name": "x"}]})
    b = json.dumps({"name": "n.R", "type": "record", "fields": [{"name": "x", "type": "int"}]})
    ida = c.register_schema("s", avro(a), normalize_schemas=True)
    assert c.register_schema("t", avro(b), normalize_schemas=True) == ida
    assert c.lookup_schema("s", avro(b), normalize_schemas=True).version == 1
    # without normalize only what Confluent's canonical form keeps counts: b's full name is
    # written as name + namespace, so b is a; custom properties keep their order
    assert registry.http.post("/subjects/s", json={"schema": b}).json()["version"] == 1
    c.register_schema("p", avro(json.dumps({**json.loads(a), "y": 1, "x": 2})), normalize_schemas=True)
    raw(registry.http.post("/subjects/p", json={"schema": json.dumps({**json.loads(a), "y": 1, "x": 2})}), 40403)
    # normalize switched on by config
    assert registry.http.put("/config/u", json={"normalize": True}).json() == {"normalize": True}
    assert registry.http.post("/subjects/u/versions", json={"schema": a}).json()["id"] == ida
    j1 = json.dumps({"type": "object", "properties": {"b": {"type": "string"}, "a": {"type": "integer"}}})
    j2 = json.dumps({"properties": {"a": {"type": "integer"}, "b": {"type": "string"}}, "type": "object"})
    jid = c.register_schema("j", Schema(j1, "JSON"), normalize_schemas=True)
    assert c.register_schema("k", Schema(j2, "JSON"), normalize_schemas=True) == jid
    assert c.register_schema("l", Schema(j1, "JSON")) != jid  # not normalized: key order counts


# ------------------------------------------------------------------ compatibility


def test_incompatible_registration_is_409(registry):
    c = registry.client
    c.register_schema("s", avro())
    err = expect(lambda: c.register_schema("s", avro(BREAKING)), 409)
    assert "incompatible" in err.error_message
    assert c.register_schema("s", avro(V2)) == 2
    registry.app.incompatible_error_code = 40901
    expect(lambda: c.register_schema("s", avro(BREAKING)), 40901, 409)
    # force skips the check
    assert registry.http.post("/subjects/s/versions?force=true", json={"schema": BREAKING}).status_code == 200


def test_compatibility_endpoints(registry):
    c = registry.client
    assert c.test_compatibility("missing", avro())  # latest on a missing subject: compatible
    expect(lambda: c.test_compatibility("missing", avro(), version=1), 40402)
    c.register_schema("s", avro())
    assert c.test_compatibility("s", avro(V2)) is True
    assert c.test_compatibility("s", avro(BREAKING)) is False
    assert c.test_compatibility_all_versions("s", avro(BREAKING)) is False
    assert c.test_compatibility_all_versions("missing", avro(BREAKING)) is True
    resp = registry.http.post("/compatibility/subjects/s/versions/latest?verbose=true", json={"schema": BREAKING})
    body = resp.json()
    assert resp.status_code == 200 and body["is_compatible"] is False
    assert "{oldSchemaVersion: 1}" in body["messages"]
    assert any("compatibility: 'BACKWARD'" in m for m in body["messages"])
    quiet = registry.http.post("/compatibility/subjects/s/versions/1", json={"schema": BREAKING}).json()
    assert quiet == {"is_compatible": False}
    # verbose turns an invalid schema into a message; without verbose it is a 422
    bad = registry.http.post("/compatibility/subjects/s/versions/1?verbose=true", json={"schema": "{"}).json()
    assert bad["is_compatible"] is False and bad["messages"]
    raw(registry.http.post("/compatibility/subjects/s/versions/1", json={"schema": "{"}), 42201)
    raw(registry.http.post("/compatibility/subjects/s/versions", json={"schema": "{"}), 42201)


def test_transitive_levels(registry):
    c = registry.client
    c.set_compatibility("s", "NONE")
    c.register_schema("s", avro())
    c.register_schema("s", avro(BREAKING))  # name: int
    c.set_compatibility("s", "BACKWARD")
    assert c.test_compatibility_all_versions("s", avro(BREAKING)) is True
    c.set_compatibility("s", "BACKWARD_TRANSITIVE")
    assert c.test_compatibility_all_versions("s", avro(BREAKING)) is False
    # a named version is checked alone even under a transitive level
    assert c.test_compatibility("s", avro(BREAKING), version=2) is True
    expect(lambda: c.register_schema("s", avro(json.dumps(json.loads(BREAKING) | {"doc": "x"}))), 409)
    # soft-deleted versions are out of the check
    c.delete_version("s", 1)
    assert c.test_compatibility_all_versions("s", avro(BREAKING)) is True


# ------------------------------------------------------------------ config


def test_config(registry):
    c = registry.client
    assert c.get_compatibility() == "BACKWARD"
    assert registry.http.get("/config").json() == {"compatibilityLevel": "BACKWARD"}
    assert c.set_compatibility(level="full") == {"compatibility": "FULL"}
    assert c.get_compatibility() == "FULL"
    expect(lambda: c.get_compatibility("s"), 40408)
    assert registry.http.get("/config/s", params={"defaultToGlobal": "true"}).json()["compatibilityLevel"] == "FULL"
    c.set_compatibility("s", "NONE")
    assert c.get_compatibility("s") == "NONE"
    expect(lambda: c.set_compatibility("s", "SIDEWAYS"), 42203)
    raw(registry.http.put("/config", json={"compatibility": 5}), 42203)
    raw(registry.http.put("/config", json=[1]), 42203)
    cfg = c.get_config("s")
    assert cfg.compatibility_level == "NONE"
    assert c.delete_config("s").compatibility_level == "NONE"
    expect(lambda: c.delete_config("s"), 40401)
    assert c.delete_config().compatibility_level == "FULL"
    assert c.get_compatibility() == "BACKWARD"
    updated = c.set_config(config=ServerConfig.from_dict({"compatibility": "FORWARD", "compatibilityGroup": "app"}))
    assert updated["compatibility"] == "FORWARD"
    assert c.get_config().compatibility_group == "app"


def test_permanent_delete_removes_subject_config_and_mode(registry):
    c = registry.client
    c.register_schema("s", avro())
    c.set_compatibility("s", "NONE")
    c.update_mode("s", "READWRITE")
    c.delete_subject("s")
    c.delete_subject("s", permanent=True)
    expect(lambda: c.get_compatibility("s"), 40408)
    expect(lambda: c.get_mode("s"), 40409)


# ------------------------------------------------------------------ mode


def test_modes(registry):
    c = registry.client
    assert c.get_global_mode() == "READWRITE"
    expect(lambda: c.get_mode("s"), 40409)
    assert registry.http.get("/mode/s", params={"defaultToGlobal": "true"}).json() == {"mode": "READWRITE"}
    assert c.update_mode("s", "READONLY") == "READONLY"
    assert c.get_mode("s") == "READONLY"
    expect(lambda: c.register_schema("s", avro()), 42205)
    expect(lambda: c.delete_subject("s"), 42205)
    assert c.delete_mode("s") == "READONLY"
    expect(lambda: c.delete_mode("s"), 40409)
    assert c.register_schema("s", avro()) == 1
    assert c.update_global_mode("READONLY") == "READONLY"
    expect(lambda: c.register_schema("t", avro(OTHER)), 42205)
    expect(lambda: c.delete_subject("s"), 42205)
    expect(lambda: c.update_global_mode("SLEEPY"), 42204)
    raw(registry.http.put("/mode", json={}), 42204)
    assert c.update_global_mode("READWRITE") == "READWRITE"
    assert registry.http.delete("/mode").json() == {"mode": "READWRITE"}


def test_import_mode(registry):
    c, http = registry.client, registry.http
    c.register_schema("live", avro())
    # IMPORT on a non-empty registry needs force
    expect(lambda: c.update_global_mode("IMPORT"), 42205)
    # an explicit id outside IMPORT is refused
    raw(http.post("/subjects/x/versions", json={"schema": OTHER, "id": 50}), 42205)
    assert c.update_mode("imp", "IMPORT") == "IMPORT"
    expect(lambda: c.update_mode("live", "IMPORT"), 42205)
    assert c.update_mode("live", "IMPORT", force=True) == "IMPORT"
    resp = http.post("/subjects/imp/versions", json={"schema": OTHER, "id": 50, "version": 7})
    assert resp.json()["id"] == 50 and resp.json()["version"] == 7
    assert c.get_schema(50).schema_str
    assert c.get_versions("imp") == [7]
    # the same id for another schema: 42207; the same schema again: fine
    raw(http.post("/subjects/imp/versions", json={"schema": V2, "id": 50}), 42207)
    assert http.post("/subjects/imp/versions", json={"schema": OTHER, "id": 50, "version": 7}).json()["id"] == 50
    raw(http.post("/subjects/imp/versions", json={"schema": V2, "id": 51, "version": 7}), 42207)
    # ids assigned later continue after the imported ones
    c.delete_mode("imp")
    assert c.register_schema("after", avro(V2)) == 51


# ------------------------------------------------------------------ metadata


def test_metadata_and_latest_with_metadata(registry):
    c = registry.client
    meta = Metadata(None, MetadataProperties({"owner": "team-a"}), None)
    c.register_schema("s", Schema(V1, "AVRO", metadata=meta))
    c.register_schema("s", Schema(V2, "AVRO"))  # without metadata: version 1's carries over
    found = c.get_latest_with_metadata("s", {"owner": "team-a"})
    assert found.version == 2 and found.schema.metadata.properties.properties == {"owner": "team-a"}
    c.register_schema("s", Schema(V1, "AVRO", metadata=Metadata(None, MetadataProperties({"owner": "b"}), None)))
    assert c.get_latest_with_metadata("s", {"owner": "team-a"}).version == 2
    expect(lambda: c.get_latest_with_metadata("s", {"owner": "team-b"}), 40403)
    # metadata is part of the schema's identity
    assert c.register_schema("t", Schema(V1, "AVRO")) != c.register_schema("u", Schema(V1, "AVRO", metadata=meta))


# ------------------------------------------------------------------ protocol details


def test_root_and_metadata_endpoints(registry):
    assert registry.http.get("/").json() == {}
    assert registry.http.post("/").json() == {}
    assert "kafka-cluster" in registry.http.get("/v1/metadata/id").json()["scope"]["clusters"]
    assert registry.http.get("/v1/metadata/version").json()["version"]
    registry.client.register_schema("s", avro(OTHER))
    assert registry.http.get("/schemas/ids/1", params={"fetchMaxId": "true"}).json()["maxId"] == 1


def test_content_negotiation(registry):
    http = registry.http
    assert http.get("/subjects").headers["content-type"] == "application/vnd.schemaregistry.v1+json"
    assert http.get("/subjects", headers={"Accept": "application/json"}).headers["content-type"] == "application/json"
    vnd = http.get("/subjects", headers={"Accept": "application/vnd.schemaregistry+json"})
    assert vnd.headers["content-type"] == "application/vnd.schemaregistry+json"
    assert http.get("/subjects", headers={"Accept": "*/*"}).headers["content-type"].endswith("v1+json")
    raw(http.get("/subjects", headers={"Accept": "text/html"}), 406)
    for ctype in ("application/json", "application/vnd.schemaregistry+json", "application/octet-stream"):
        resp = http.post("/subjects/s/versions", content=json.dumps({"schema": V1}), headers={"Content-Type": ctype})
        assert resp.status_code == 200, ctype
    raw(http.post("/subjects/s/versions", content=json.dumps({"schema": V1}), headers={"Content-Type": "text/plain"}), 415)
    raw(http.post("/subjects/s/versions", content=b"{oops", headers={"Content-Type": "application/json"}), 400)


def test_empty_fields_are_omitted(registry):
    registry.client.register_schema("s", avro())
    body = registry.http.get("/subjects/s/versions/1").json()
    assert set(body) == {"subject", "version", "id", "guid", "schemaType", "schema"}


def test_unknown_paths_and_methods(registry):
    raw(registry.http.get("/nope"), 404)
    raw(registry.http.get("/subjects/s/versions/1/nope"), 404)
    raw(registry.http.get("/associations/resources/ns/name/extra"), 404)
    resp = registry.http.put("/subjects")
    raw(resp, 405)
    assert resp.headers["allow"] == "GET"
    raw(registry.http.get("/compatibility/subjects/s/versions"), 405)


def test_contexts_delete(registry):
    assert registry.http.delete("/contexts/:.:").status_code == 204
    raw(registry.http.delete("/contexts/.other"), 40401)
    registry.client.register_schema("s", avro())
    raw(registry.http.delete("/contexts/:.:"), 42211)


def test_associations_of_an_unknown_topic_are_an_empty_list(registry):
    # (tests/registry/test_associations.py covers the associations API)
    assert registry.client.get_associations_by_resource_name("orders", "lkc-1") == []
