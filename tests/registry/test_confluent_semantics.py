"""Confluent Schema Registry's own semantics (issue 13, items 1, 2 and 5), over both transports.

JSON Schema's default dialect, Avro stored as Confluent's ``canonicalString()``, and the
data-contract fields (metadata, rule sets, config defaults and overrides). The reference is
confluentinc/schema-registry: ``AbstractSchemaRegistry`` (``maybeSetMetadataRuleSet``,
``lookUpSchemaUnderSubject``), ``AvroSchema`` and Avro's ``Schema.toString``.
"""
from __future__ import annotations

import json
import sqlite3

import pytest
from confluent_kafka.schema_registry import (
    Metadata,
    MetadataProperties,
    Rule,
    RuleSet,
    Schema,
    ServerConfig,
)
from confluent_kafka.schema_registry.error import SchemaRegistryError

from serde.registry import EmbeddedRegistry
from serde.registry._avro import canonical_string

from .test_api import expect, raw

RECORD = {"type": "record", "name": "User", "namespace": "ex", "fields": [{"name": "name", "type": "string"}]}
V1 = json.dumps(RECORD)
V2 = json.dumps({**RECORD, "fields": [*RECORD["fields"], {"name": "age", "type": "int", "default": 0}]})


def rule(name: str, **kw) -> Rule:
    return Rule.from_dict({"name": name, "type": kw.pop("type", "CEL"), "expr": kw.pop("expr", "true"), **kw})


def rules(*domain: Rule, **kw) -> RuleSet:
    return RuleSet(migration_rules=[], domain_rules=list(domain), **kw)


def props(**p: str) -> Metadata:
    return Metadata(None, MetadataProperties(p), None)


# ------------------------------------------------------------------ 1. JSON Schema: draft-07


def test_json_schema_without_dollar_schema_is_draft_07(registry):
    c = registry.client
    tuple_items = json.dumps({"type": "array", "items": [{"type": "integer"}]})  # draft-07 only
    assert c.register_schema("j", Schema(tuple_items, "JSON")) == 1
    assert c.lookup_schema("j", Schema(tuple_items, "JSON")).version == 1
    # under 2020-12 the same keyword must be a schema: an explicit $schema still decides
    modern = json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", **json.loads(tuple_items)})
    expect(lambda: c.register_schema("k", Schema(modern, "JSON")), 42201)
    # invalid for draft-07 as well: refused on register and on lookup
    bad = json.dumps({"type": "no-such-type"})
    expect(lambda: c.register_schema("k", Schema(bad, "JSON")), 42201)
    raw(registry.http.post("/subjects/j", json={"schema": bad, "schemaType": "JSON"}), 42201)


# ------------------------------------------------------------------ 2. Avro as Confluent stores it


def test_avro_primitive_object_is_the_primitive(registry):
    c, http = registry.client, registry.http
    assert c.register_schema("p", Schema('"int"', "AVRO")) == 1
    # confluent-kafka (and serde's serializer) send a primitive as {"type": "int"}: one id
    assert c.register_schema("p", Schema('{"type":"int"}', "AVRO")) == 1
    assert c.register_schema("q", Schema('{"type": "int"}', "AVRO")) == 1
    assert c.get_versions("p") == [1]
    assert c.lookup_schema("p", Schema('{"type":"int"}', "AVRO")).version == 1
    assert http.get("/subjects/p/versions/1/schema").text == '"int"'
    assert http.get("/schemas/ids/1").json()["schema"] == '"int"'
    # properties make it an object, kept in their order
    with_props = '{"type":"string","avro.java.string":"String"}'
    sid = c.register_schema("s", Schema(json.dumps({"avro.java.string": "String", "type": "string"}), "AVRO"))
    assert http.get(f"/schemas/ids/{sid}").json()["schema"] == with_props


def test_avro_stored_text_is_confluents_canonical_string(registry):
    c, http = registry.client, registry.http
    given = {
        "doc": "a user",
        "fields": [
            {"type": "int", "name": "a", "default": 1, "order": "DESCENDING", "aliases": ["b", "b"], "x-prop": True},
            {"name": "f", "type": "double", "default": "1.5"},  # a textual default becomes a number
            {"name": "big", "type": "double", "default": 1e10},
            {"name": "n", "type": {"type": "record", "name": "Inner", "namespace": "", "fields": []}},
            {"name": "e", "type": {"symbols": ["A", "B"], "name": "E", "type": "enum", "default": "A"}},
            {"name": "e2", "type": "E"},
            {"name": "d", "type": {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2}},
        ],
        "aliases": ["Old", "other.Older", "Old"],
        "name": "com.acme.User",
        "type": "record",
        "custom": {"k": [1, 2]},
    }
    expected = (
        '{"type":"record","name":"User","namespace":"com.acme","doc":"a user","fields":['
        '{"name":"a","type":"int","default":1,"order":"descending","aliases":["b"],"x-prop":true},'
        '{"name":"f","type":"double","default":1.5},'
        '{"name":"big","type":"double","default":1.0E10},'
        '{"name":"n","type":{"type":"record","name":"Inner","namespace":"","fields":[]}},'
        '{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"],"default":"A"}},'
        '{"name":"e2","type":"E"},'
        '{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}}],'
        '"custom":{"k":[1,2]},"aliases":["Old","other.Older"]}'
    )
    sid = c.register_schema("u", Schema(json.dumps(given, indent=2), "AVRO"))
    assert http.get(f"/schemas/ids/{sid}").json()["schema"] == expected
    assert c.get_latest_version("u").schema.schema_str == expected
    # the stored text is what fastavro (serde's Avro) reads back
    import fastavro

    fastavro.parse_schema(json.loads(expected))
    # the canonical text registers and looks up as the same schema
    assert c.register_schema("u", Schema(expected, "AVRO")) == sid
    assert http.post("/subjects/u", json={"schema": expected}).json()["version"] == 1


def test_avro_references_are_written_by_name(registry):
    c, http = registry.client, registry.http
    address = json.dumps({"type": "record", "name": "Address", "namespace": "geo", "fields": [{"name": "c", "type": "string"}]})
    c.register_schema("address", Schema(address, "AVRO"))
    user = json.dumps({"type": "record", "name": "ex.User", "fields": [{"name": "home", "type": "geo.Address"}]})
    refs = [{"name": "geo.Address", "subject": "address", "version": 1}]
    reply = http.post("/subjects/user/versions", json={"schema": user, "references": refs}).json()
    stored = http.get(f"/schemas/ids/{reply['id']}").json()["schema"]
    assert stored == '{"type":"record","name":"User","namespace":"ex","fields":[{"name":"home","type":"geo.Address"}]}'


@pytest.mark.parametrize(
    "schema",
    [
        # a union default is valid when a branch takes it: "null" is a string, not null
        {"type": "record", "name": "R", "fields": [
            {"name": "a", "type": ["null", {"type": "record", "name": "S", "fields": []}], "default": "null"}]},
        {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "default": 1.5}]},
        {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "default": 2**31}]},
        {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}, {"name": "a", "type": "long"}]},
        {"type": "record", "name": "1R", "fields": []},
        {"type": "enum", "name": "E", "symbols": ["A", "A"]},
        {"type": "record", "name": "R", "fields": [{"name": "a", "type": "Undefined"}]},
        {"type": {"type": "int"}},
    ],
    ids=["union-default", "int-default-float", "int-default-range", "duplicate-field", "bad-name",
         "duplicate-symbol", "undefined-name", "nested-type-object"],
)
def test_avro_invalid_on_first_registration(registry, schema):
    expect(lambda: registry.client.register_schema("bad", Schema(json.dumps(schema), "AVRO")), 42201)
    assert registry.client.get_subjects() == []


def test_avro_union_default_may_match_any_branch(registry):
    # Avro 1.12, which Confluent 8 parses with: any branch, not only the first
    schema = {"type": "record", "name": "R", "fields": [{"name": "a", "type": ["null", "string"], "default": "x"}]}
    assert registry.client.register_schema("ok", Schema(json.dumps(schema), "AVRO")) == 1


def test_avro_lookup_of_an_unparseable_schema_is_42201(registry):
    http = registry.http
    registry.client.register_schema("s", Schema(V1, "AVRO"))
    for bad in ('{"type": "record", "name": "R"}', "not json", '{"type":"nope"}'):
        raw(http.post("/subjects/s", json={"schema": bad}), 42201)
        raw(http.post("/subjects/missing", json={"schema": bad}), 42201)  # parsed before 40401
    # a lookup does not check defaults (Confluent parses it as an existing schema)
    odd = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "default": "x"}]})
    raw(http.post("/subjects/s", json={"schema": odd}), 40403)
    raw(http.post("/subjects/missing", json={"schema": V1}), 40401)


def test_serde_serializer_primitive_shares_the_id(registry):
    """serde's Avro serializer registers {"type":"int"} as confluent-kafka does."""
    import serde
    from confluent_kafka.serialization import MessageField, SerializationContext

    registry.client.register_schema("n-value", Schema('"int"', "AVRO"))
    ser = serde.serializer("avro", '{"type":"int"}', registry=registry.client)
    data = ser(7, SerializationContext("n", MessageField.VALUE))
    assert data[1:5] == (1).to_bytes(4, "big")
    assert registry.client.get_versions("n-value") == [1]


def test_existing_database_is_migrated_in_place(tmp_path):
    """A database written before Confluent's canonical form: re-registering finds the old ids."""
    path = tmp_path / "old.db"
    with EmbeddedRegistry(path) as reg:
        assert reg.client.register_schema("p", Schema('{"type": "int"}', "AVRO")) == 1
        reg.client.register_schema("u", Schema(V1, "AVRO", rule_set=rules(rule("r1"))))
    # rewind the rows to what the previous release stored: compact text, raw rule, old hashes
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schemas SET schema = ?, hash = 'old', norm_hash = 'old' WHERE id = 1", ('{"type":"int"}',))
    conn.execute("UPDATE schemas SET hash = 'old', norm_hash = 'old' WHERE id = 2")
    conn.execute("DELETE FROM meta WHERE key = 'canonical_version'")
    conn.commit()
    conn.close()
    with EmbeddedRegistry(path) as reg:
        c = reg.client
        assert c.register_schema("p", Schema('"int"', "AVRO")) == 1
        assert c.get_schema(1).schema_str == '"int"'
        assert c.register_schema("u", Schema(V1, "AVRO", rule_set=rules(rule("r1")))) == 2
        assert c.get_versions("p") == [1] and c.get_versions("u") == [1]


def test_canonical_string_writes_doubles_as_java():
    text = json.dumps({"type": "record", "name": "R", "fields": [
        {"name": "a", "type": "double", "default": 0.0001},
        {"name": "b", "type": "float", "default": "NaN"},
        {"name": "c", "type": "double", "default": 1234567.0},
        {"name": "d", "type": "double", "default": 12345678.0},
    ]})
    out = json.loads(canonical_string(text))
    assert [f["default"] for f in out["fields"]][1] == "NaN"
    assert '"default":1.0E-4' in canonical_string(text)
    assert '"default":1234567.0' in canonical_string(text)
    assert '"default":1.2345678E7' in canonical_string(text)


# ------------------------------------------------------------------ 5. data contracts


def test_rule_set_and_metadata_come_back_as_confluent_holds_them(registry):
    c = registry.client
    rs = RuleSet.from_dict({"domainRules": [{"name": "r", "type": "CEL", "expr": "true", "tags": ["b", "a"]}]})
    md = Metadata.from_dict({"properties": {"z": "1", "a": "2"}, "sensitive": ["s2", "s1"]})
    c.register_schema("s", Schema(V1, "AVRO", metadata=md, rule_set=rs))
    body = registry.http.get("/subjects/s/versions/1").json()
    assert body["ruleSet"] == {"domainRules": [
        {"name": "r", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "CEL", "tags": ["a", "b"], "expr": "true",
         "disabled": False}]}
    assert body["metadata"] == {"properties": {"a": "2", "z": "1"}, "sensitive": ["s1", "s2"]}
    # spelled out with the defaults, it is the same contract: the same id and version
    full = RuleSet.from_dict(body["ruleSet"])
    assert c.register_schema("s", Schema(V1, "AVRO", metadata=md, rule_set=full)) == 1
    assert c.get_versions("s") == [1]


def test_schemas_differing_only_in_contract_get_new_versions(registry):
    c = registry.client
    assert c.register_schema("s", Schema(V1, "AVRO")) == 1
    assert c.register_schema("s", Schema(V1, "AVRO", rule_set=rules(rule("r1")))) == 2
    assert c.register_schema("s", Schema(V1, "AVRO", metadata=props(owner="a"))) == 3
    assert c.get_versions("s") == [1, 2, 3]
    v3 = c.get_version("s", 3)
    # a request without rules takes the previous version's
    assert v3.schema.metadata.properties.properties == {"owner": "a"}
    assert v3.schema.rule_set.domain_rules[0].name == "r1"
    # the schema exactly as version 1 holds it (no contract) is version 1, as sent
    body = registry.http.post("/subjects/s/versions", json={"schema": V1}).json()
    assert (body["id"], body["version"]) == (1, 1)
    # a new schema inherits the contract too
    v4 = c.register_schema_full_response("s", Schema(V2, "AVRO"))
    assert v4.version == 4
    got = registry.http.get("/subjects/s/versions/4").json()
    assert got["metadata"] == {"properties": {"owner": "a"}} and got["ruleSet"]["domainRules"][0]["name"] == "r1"


def test_lookup_with_and_without_the_contract(registry):
    c, http = registry.client, registry.http
    c.register_schema("s", Schema(V1, "AVRO", metadata=props(owner="a"), rule_set=rules(rule("r1"))))
    # the exact contract
    assert c.lookup_schema("s", Schema(V1, "AVRO", metadata=props(owner="a"), rule_set=rules(rule("r1")))).version == 1
    # none: looked up again with the latest version's contract populated in
    assert c.lookup_schema("s", Schema(V1, "AVRO")).version == 1
    # another contract: not this schema
    raw(http.post("/subjects/s", json={"schema": V1, "metadata": {"properties": {"owner": "b"}}}), 40403)
    body = http.post("/subjects/s", json={"schema": V1}).json()
    assert body["metadata"] == {"properties": {"owner": "a"}}


def test_confluent_version_is_set_when_asked_for(registry):
    http = registry.http
    first = http.post("/subjects/s/versions", json={"schema": V1, "version": 1}).json()
    assert first["version"] == 1
    assert http.get("/subjects/s/versions/1").json()["metadata"] == {"properties": {"confluent:version": "1"}}
    # the next registration carries the property over and moves it on
    http.post("/subjects/s/versions", json={"schema": V2})
    assert http.get("/subjects/s/versions/2").json()["metadata"] == {"properties": {"confluent:version": "2"}}
    # looking up without it still finds the version holding it
    assert http.post("/subjects/s", json={"schema": V2}).json()["version"] == 2
    assert http.post("/subjects/s/versions", json={"schema": V2}).json()["version"] == 2


def test_config_defaults_and_overrides_merge_into_registrations(registry):
    c = registry.client
    config = ServerConfig(
        default_metadata=props(owner="default", tier="gold"),
        override_metadata=props(owner="platform"),
        default_rule_set=rules(rule("checkA"), rule("shared", expr="1 == 1")),
        override_rule_set=rules(rule("shared", expr="2 == 2")),
    )
    c.set_config("s", config)
    got = c.get_config("s")
    assert got.default_metadata.properties.properties == {"owner": "default", "tier": "gold"}
    assert [r.name for r in got.override_rule_set.domain_rules] == ["shared"]
    c.register_schema("s", Schema(V1, "AVRO", metadata=props(owner="team", app="x"), rule_set=rules(rule("mine"))))
    body = registry.http.get("/subjects/s/versions/1").json()
    # merge(merge(default, specific), override): properties key by key, override wins
    assert body["metadata"]["properties"] == {"app": "x", "owner": "platform", "tier": "gold"}
    # rules merged by name: an old rule named like a newer one goes, newer ones follow
    assert [(r["name"], r["expr"]) for r in body["ruleSet"]["domainRules"]] == [
        ("checkA", "true"), ("mine", "true"), ("shared", "2 == 2")]
    # a lookup of the plain schema finds it through the same merge
    assert c.lookup_schema("s", Schema(V1, "AVRO")).version == 1
    assert c.register_schema("s", Schema(V1, "AVRO")) == 1


def test_global_config_contract_and_subject_config_scope(registry):
    http = registry.http
    assert http.put("/config", json={"defaultMetadata": {"properties": {"g": "1"}}}).status_code == 200
    assert http.get("/config").json()["defaultMetadata"] == {"properties": {"g": "1"}}
    http.post("/subjects/a/versions", json={"schema": V1})
    assert http.get("/subjects/a/versions/1").json()["metadata"] == {"properties": {"g": "1"}}
    # a subject with a config of its own does not take the global defaults (Config.mergeConfigs)
    http.put("/config/b", json={"compatibility": "NONE"})
    http.post("/subjects/b/versions", json={"schema": V1})
    assert "metadata" not in http.get("/subjects/b/versions/1").json()
    # an explicit null clears
    assert http.put("/config", json={"defaultMetadata": None}).status_code == 200
    assert "defaultMetadata" not in http.get("/config").json()


@pytest.mark.parametrize(
    "bad",
    [
        {"domainRules": [{"name": "1bad", "type": "CEL"}]},
        {"domainRules": [{"name": "r", "type": "CEL"}], "migrationRules": [{"name": "r", "type": "JSONATA", "mode": "UPGRADE"}]},
        {"domainRules": [{"name": "r"}]},
        {"domainRules": [{"name": "r", "type": "CEL", "mode": "UPGRADE"}]},
        {"migrationRules": [{"name": "r", "type": "JSONATA"}]},
        {"domainRules": [{"name": "r", "type": "CEL", "mode": "WRITE", "onFailure": "ERROR,NONE"}]},
        {"domainRules": [{"type": "CEL"}]},
    ],
    ids=["name", "duplicate-name", "no-type", "domain-mode", "migration-mode", "two-actions", "no-name"],
)
def test_invalid_rule_sets_are_42210(registry, bad):
    http = registry.http
    raw(http.post("/subjects/s/versions", json={"schema": V1, "ruleSet": bad}), 42210)
    raw(http.put("/config/s", json={"defaultRuleSet": bad}), 42210)
    raw(http.put("/config", json={"overrideRuleSet": bad}), 42210)
    assert http.get("/subjects").json() == []


def test_invalid_rule_set_through_the_client(registry):
    with pytest.raises(SchemaRegistryError) as info:
        registry.client.register_schema("s", Schema(V1, "AVRO", rule_set=rules(Rule.from_dict({"name": "r"}))))
    assert info.value.error_code == 42210


def test_latest_with_metadata(registry):
    c = registry.client
    c.register_schema("s", Schema(V1, "AVRO", metadata=props(app="v1")))
    c.register_schema("s", Schema(V2, "AVRO", metadata=props(app="v2", team="t")))
    assert c.get_latest_with_metadata("s", {"app": "v1"}).version == 1
    assert c.get_latest_with_metadata("s", {"app": "v2", "team": "t"}).version == 2
    expect(lambda: c.get_latest_with_metadata("s", {"app": "v3"}), 40403)
    expect(lambda: c.get_latest_with_metadata("nope", {"app": "v1"}), 40401)
    body = registry.http.get("/subjects/s/metadata", params={"key": "app", "value": "v1"}).json()
    assert body["version"] == 1 and body["metadata"] == {"properties": {"app": "v1"}}


def test_compatibility_group_checks_only_versions_with_the_same_property(registry):
    """config.compatibilityGroup: a breaking change registers under a new value of the
    property (how migration rules are introduced), and is still checked within its group."""
    c = registry.client
    c.set_config("g", ServerConfig(compatibility_group="application.version"))
    size = json.dumps({**RECORD, "fields": [{"name": "size", "type": "int"}]})
    height = json.dumps({**RECORD, "fields": [{"name": "height", "type": "int"}]})
    width = json.dumps({**RECORD, "fields": [{"name": "width", "type": "int"}]})
    c.register_schema("g", Schema(size, "AVRO", [], props(**{"application.version": "v1"})))
    c.register_schema("g", Schema(height, "AVRO", [], props(**{"application.version": "v2"})))  # another group
    expect(lambda: c.register_schema("g", Schema(width, "AVRO", [], props(**{"application.version": "v2"}))), 409)
    expect(lambda: c.register_schema("h", Schema(size, "AVRO")) and c.register_schema("h", Schema(height, "AVRO")), 409)
