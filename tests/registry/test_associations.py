"""The associations API (Confluent's ``AssociationsResource``) and the ASSOCIATED subject name
strategy built on it: REST shapes and error codes over HTTP and in process (the ``registry``
fixture), then confluent-kafka's own client and AvroSerializer against ``serde registry serve``
next to serde's ``AssociatedStrategy``, and confluent-kafka's ``mock://`` client."""
from __future__ import annotations

import json
import sqlite3
import struct
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.common.schema_registry_client import (
    AssociationCreateOrUpdateInfo,
    AssociationCreateOrUpdateRequest,
)
from confluent_kafka.serialization import MessageField, SerializationContext

from serde._errors import ConfigError, EncodeError, RegistryError
from serde.serializers._strategies import AssociatedStrategy, resolve_strategy, topic_name
from serde.registry import RegistryServer
from serde.registry._store import Store
from serde.registry.client import Registry, open_registry

AVSC = json.dumps({"type": "record", "name": "Order", "namespace": "ex", "fields": [{"name": "id", "type": "long"}]})
AVSC2 = json.dumps(
    {
        "type": "record",
        "name": "Order",
        "namespace": "ex",
        "fields": [{"name": "id", "type": "long"}, {"name": "note", "type": "string", "default": ""}],
    }
)
BREAKING = json.dumps({"type": "record", "name": "Order", "namespace": "ex", "fields": [{"name": "id", "type": "string"}]})


def raw(resp, code: int) -> dict:
    assert resp.status_code == int(str(code)[:3]), resp.text
    body = resp.json()
    assert body["error_code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    return body


def invalid(resp, prop: str) -> str:
    """A 42212 naming ``prop``, in Confluent's words; returns the detail."""
    message = raw(resp, 42212)["message"]
    prefix = f"The association specified an invalid value for property: '{prop}', detail: "
    assert message.startswith(prefix), message
    return message[len(prefix) :]


def register(registry, subject: str, schema: str = AVSC) -> int:
    resp = registry.http.post(f"/subjects/{subject}/versions", json={"schema": schema})
    assert resp.status_code == 200, resp.text
    return int(resp.json()["id"])


def weak(name="orders", namespace="lkc-1", rid="t-1", **assoc) -> dict:
    return {
        "resourceName": name,
        "resourceNamespace": namespace,
        "resourceId": rid,
        "resourceType": "topic",
        "associations": [{"associationType": "value", "lifecycle": "WEAK", **assoc}],
    }


def strong(name="pay", namespace="lkc-1", rid="t-2", schema=AVSC, atype="value") -> dict:
    return {
        "resourceName": name,
        "resourceNamespace": namespace,
        "resourceId": rid,
        "associations": [{"associationType": atype, "schema": {"schema": schema}}],
    }


# ------------------------------------------------------------------ REST: create and look up


def test_weak_associations_and_every_lookup(registry):
    register(registry, "shared-key")
    register(registry, "shared-value")
    body = {
        "resourceName": "orders",
        "resourceNamespace": "lkc-1",
        "resourceId": "t-1",
        "resourceType": "topic",
        "associations": [
            {"subject": "shared-key", "associationType": "key", "lifecycle": "WEAK"},
            {"subject": "shared-value", "associationType": "value", "lifecycle": "WEAK"},
        ],
    }
    resp = registry.http.post("/associations", json=body)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "resourceName": "orders",
        "resourceNamespace": "lkc-1",
        "resourceId": "t-1",
        "resourceType": "topic",
        "associations": [
            {"subject": "shared-key", "associationType": "key", "lifecycle": "WEAK"},
            {"subject": "shared-value", "associationType": "value", "lifecycle": "WEAK"},
        ],
    }

    found = registry.http.get("/associations/resources/lkc-1/orders").json()
    assert [a["associationType"] for a in found] == ["key", "value"]  # Confluent's order
    key = found[0]
    assert set(key) == {
        "subject", "guid", "resourceName", "resourceNamespace", "resourceId",
        "resourceType", "associationType", "lifecycle", "createTs", "updateTs",
    }  # "frozen" only where it differs from the lifecycle's default
    uuid.UUID(key["guid"])
    assert key["subject"] == "shared-key" and key["resourceId"] == "t-1" and key["lifecycle"] == "WEAK"
    assert isinstance(key["createTs"], int) and key["updateTs"] >= key["createTs"]

    get = lambda path: registry.http.get(path).json()  # noqa: E731
    assert get("/associations/resources/-/orders") == found  # "-" namespace: any cluster
    assert get("/associations/resources/lkc-1/-") == found  # "-" name: the whole namespace
    assert get("/associations/resources/-/-") == found
    assert get("/associations/resources/lkc-2/orders") == []  # 200 and [], not 404
    assert get("/associations/resources/t-1") == found  # by resource id
    assert get("/associations/resources/-/orders?associationType=value") == [found[1]]
    assert get("/associations/resources/-/orders?associationType=key&associationType=value") == found
    assert get("/associations/resources/-/orders?lifecycle=STRONG") == []
    assert get("/associations/resources/-/orders?resourceType=table") == []
    assert get("/associations/resources/-/orders?offset=1") == [found[1]]
    assert get("/associations/resources/-/orders?limit=1") == [found[0]]
    assert get("/associations/resources/-/orders?limit=0") == found  # not positive: the default page
    assert get("/associations/resources/-/orders?offset=-5") == found
    assert get("/associations/subjects/shared-value") == [found[1]]
    assert get("/associations/subjects/shared-value?associationType=key") == []
    assert get("/associations/subjects/nobody") == []


def test_strong_association_creates_the_subject_with_its_schema(registry):
    resp = registry.http.post("/associations", json=strong())
    assert resp.status_code == 200, resp.text
    out = resp.json()
    (info,) = out["associations"]
    assert info["subject"] == ":.lkc-1:pay-value"  # the topic-owned default subject
    assert info["lifecycle"] == "STRONG" and "frozen" not in info  # STRONG is frozen by default
    schema = info["schema"]
    assert (schema["subject"], schema["version"], schema["id"]) == (":.lkc-1:pay-value", 1, 1)
    assert json.loads(schema["schema"]) == json.loads(AVSC)
    assert registry.http.get("/subjects/:.lkc-1:pay-value/versions").json() == [1]

    # the same request again is an idempotent retry: nothing new is written
    again = registry.http.post("/associations", json=strong())
    assert again.status_code == 200
    assert "associations" not in again.json()
    # another schema for the same resource and type: the association exists
    raw(registry.http.post("/associations", json=strong(schema=AVSC2)), 40903)
    # a frozen association cannot be updated, only deleted with its subject
    raw(registry.http.delete("/associations/resources/t-2"), 40908)


def test_dry_run_validates_without_writing(registry):
    body = strong(rid=None)
    del body["resourceId"]
    resp = registry.http.post("/associations?dryRun=true", json=body)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"resourceName": "pay", "resourceNamespace": "lkc-1", "resourceType": "topic"}
    assert registry.http.get("/associations/resources/-/pay").json() == []
    assert registry.http.get("/subjects").json() == []
    invalid(registry.http.post("/associations", json=body), "resourceId")  # required without dryRun
    # a dry run still checks the schema it would register
    register(registry, ":.lkc-1:pay-value")
    raw(registry.http.post("/associations?dryRun=true", json=strong(schema=BREAKING)), 42212)  # frozen: v1 differs


def test_put_creates_weak_associations_and_refuses_changes(registry):
    register(registry, "shared")
    register(registry, "other")
    body = weak(subject="shared")
    del body["resourceId"]
    resp = registry.http.put("/associations/resources/t-9", json=body)  # the id comes from the path
    assert resp.status_code == 200, resp.text
    assert resp.json()["resourceId"] == "t-9"
    assert registry.http.get("/associations/resources/t-9").json()[0]["subject"] == "shared"

    # the same again: nothing to do; lifecycle omitted keeps the stored one
    again = registry.http.put("/associations/resources/t-9", json={**body, "associations": [{"subject": "shared"}]})
    assert again.status_code == 200 and "associations" not in again.json()

    mismatch = weak(rid="t-10", subject="shared")
    assert "does not match" in invalid(registry.http.put("/associations/resources/t-9", json=mismatch), "resourceId")
    assert "cannot be changed" in invalid(
        registry.http.put("/associations/resources/t-9", json=weak(rid="t-9", subject="other")), "subject"
    )
    with_schema = {**weak(rid="t-11"), "associations": [{"schema": {"schema": AVSC}}]}
    invalid(registry.http.put("/associations/resources/t-11", json=with_schema), "schema")
    strong_new = weak(rid="t-12", subject="other", lifecycle="STRONG")
    assert "must use subject" in invalid(registry.http.put("/associations/resources/t-12", json=strong_new), "subject")
    strong_new = weak(rid="t-12", lifecycle="STRONG")
    assert "must be created with the topic" in invalid(
        registry.http.put("/associations/resources/t-12", json=strong_new), "lifecycle"
    )
    raw(registry.http.patch("/associations/resources/t-9"), 405)


# ------------------------------------------------------------------ REST: validation


@pytest.mark.parametrize(
    ("change", "prop", "detail"),
    [
        ({"resourceName": None}, "resourceName", "cannot be null or empty"),
        ({"resourceName": "orders.v1"}, "resourceName", "illegal character '.'"),
        ({"resourceName": "x" * 257}, "resourceName", "exceeds max length of 256"),
        ({"resourceName": 7}, "resourceName", "must be a string"),
        ({"resourceNamespace": ""}, "resourceNamespace", "cannot be null or empty"),
        ({"resourceNamespace": "lkc 1"}, "resourceNamespace", "illegal character ' '"),
        ({"resourceId": ""}, "resourceId", "cannot be null or empty"),
        ({"resourceType": "table"}, "resourceType", "must be 'topic'"),
        ({"associations": []}, "associations", "cannot be null or empty"),
        ({"associations": "value"}, "associations", "must be a list"),
        ({"associations": [1]}, "associations", "each association must be a JSON object"),
        ({"associations": [{"subject": "s", "associationType": "both"}]}, "associationType", "must be either 'key' or 'value'"),
        ({"associations": [{"subject": "s", "lifecycle": "SOMETIMES"}]}, "lifecycle", "must be STRONG or WEAK"),
        ({"associations": [{"subject": "s", "frozen": "yes"}]}, "frozen", "must be a boolean"),
        ({"associations": [{"subject": "s\x00"}]}, "subject", "must not be empty"),
        ({"associations": [{"lifecycle": "WEAK"}]}, "subject", "must be provided for WEAK associations"),
        ({"associations": [{"subject": ":.lkc-1:orders-value"}]}, "subject", "WEAK associations cannot use subject ':.lkc-1:orders-value'"),
        ({"associations": [{"subject": "s", "frozen": True}]}, "frozen", "association with lifecycle of WEAK cannot be frozen=true"),
        ({"associations": [{"lifecycle": "WEAK", "schema": {"schema": AVSC}}]}, "lifecycle", "cannot be WEAK when schema is provided"),
        ({"associations": [{"frozen": False, "schema": {"schema": AVSC}}]}, "frozen", "cannot be false when a schema is provided"),
        ({"associations": [{"lifecycle": "STRONG"}]}, "schema", "schema must be provided when creating a frozen association"),
        ({"associations": [{"subject": "mine", "schema": {"schema": AVSC}}]}, "subject", "frozen associations must use subject ':.lkc-1:orders-value'"),
        (
            {"associations": [{"subject": "s", "associationType": "key"}, {"subject": "s", "associationType": "key"}]},
            "associationType",
            "may only appear once per request, but 'key' appears more than once",
        ),
        (
            {"associations": [{"associationType": "key", "schema": {"schema": AVSC}}, {"subject": "s"}]},
            "lifecycle",
            "all associations for a resource must have the same lifecycle, but got key=STRONG, value=WEAK",
        ),
    ],
)
def test_invalid_requests_give_42212(registry, change, prop, detail):
    register(registry, "s")
    body = {**weak(subject="s"), **change}
    assert invalid(registry.http.post("/associations", json=body), prop) == detail


def test_malformed_bodies_and_queries(registry):
    invalid(registry.http.post("/associations", json=[1]), "request")
    invalid(registry.http.post("/associations", content=b"", headers={"Content-Type": "application/json"}), "request")
    raw(registry.http.post("/associations", content=b"{nope", headers={"Content-Type": "application/json"}), 400)
    raw(registry.http.post("/associations", json={**strong(), "associations": [{"schema": {"schema": "{"}}]}), 42201)
    raw(registry.http.post("/associations", json={**strong(), "associations": [{"schema": "text"}]}), 42212)
    # like JAX-RS, a query parameter that does not convert is a 404
    raw(registry.http.get("/associations/resources/-/orders?lifecycle=sometimes"), 404)
    raw(registry.http.get("/associations/resources/-/orders?offset=first"), 404)
    raw(registry.http.get("/associations/resources/-/orders/extra"), 404)
    raw(registry.http.get("/associations/unknown"), 404)
    raw(registry.http.get("/associations"), 405)
    raw(registry.http.post("/associations/resources/lkc-1/orders"), 405)


def test_oversized_body(registry):
    registry.app.max_body, before = 1024, registry.app.max_body
    try:
        raw(registry.http.post("/associations", json=weak(subject="x" * 2048)), 413)
    finally:
        registry.app.max_body = before


# ------------------------------------------------------------------ REST: conflicts


def test_conflicts_between_associations_and_subjects(registry):
    raw(registry.http.post("/associations", json=weak(subject="empty")), 40907)  # no live version

    register(registry, "shared")
    assert registry.http.post("/associations", json=weak(subject="shared")).status_code == 200
    raw(registry.http.post("/associations", json=weak(subject="other-subject")), 40903)  # same resource and type

    # a WEAK association may point at another topic's default subject...
    register(registry, ":.lkc-1:pay-value")
    assert registry.http.post("/associations", json=weak(name="audit", rid="t-3", subject=":.lkc-1:pay-value")).status_code == 200
    # ...which that topic then cannot own
    raw(registry.http.post("/associations", json=strong()), 40904)

    # a subject owned by its topic is nobody else's
    assert registry.http.post("/associations", json=strong(name="bill", rid="t-4")).status_code == 200
    raw(registry.http.post("/associations", json=weak(name="copy", rid="t-5", subject=":.lkc-1:bill-value")), 40905)

    # an associated subject cannot be deleted, nor lose its last live version
    raw(registry.http.delete("/subjects/shared"), 40904)
    raw(registry.http.delete("/subjects/shared/versions/1"), 40907)
    # a STRONG subject cannot be referenced
    ref = {"schema": AVSC, "references": [{"name": "o", "subject": ":.lkc-1:bill-value", "version": 1}]}
    raw(registry.http.post("/subjects/referrer/versions", json=ref), 42205)


def test_a_referenced_subject_cannot_be_owned(registry):
    register(registry, ":.lkc-1:pay-value")
    ref = {"schema": json.dumps({"type": "record", "name": "W", "fields": [{"name": "o", "type": "ex.Order"}]}),
           "references": [{"name": "ex.Order", "subject": ":.lkc-1:pay-value", "version": 1}]}
    assert registry.http.post("/subjects/wrapper/versions", json=ref).status_code == 200
    raw(registry.http.post("/associations", json=strong()), 42206)


def test_read_only_subject(registry):
    register(registry, "shared")
    assert registry.http.put("/mode/shared", json={"mode": "READONLY"}).status_code == 200
    raw(registry.http.post("/associations", json=weak(subject="shared")), 42205)


def test_a_failure_leaves_nothing_behind(registry):
    # the key's schema is fine, the value's invalid: neither association nor schema stays
    body = {
        "resourceName": "pay",
        "resourceNamespace": "lkc-1",
        "resourceId": "t-2",
        "associations": [
            {"associationType": "key", "schema": {"schema": AVSC}},
            {"associationType": "value", "schema": {"schema": '{"type": "record"}'}},
        ],
    }
    raw(registry.http.post("/associations?dryRun=true", json=body), 42201)
    raw(registry.http.post("/associations", json=body), 42201)
    assert registry.http.get("/subjects?deleted=true").json() == []
    assert registry.http.get("/associations/resources/t-2").json() == []


# ------------------------------------------------------------------ REST: delete


def test_delete(registry):
    register(registry, "k")
    register(registry, "v")
    body = weak(subject="v")
    body["associations"].append({"subject": "k", "associationType": "key", "lifecycle": "WEAK"})
    assert registry.http.post("/associations", json=body).status_code == 200

    raw(registry.http.delete("/associations/resources/nope"), 40410)
    raw(registry.http.delete("/associations/resources/t-1?resourceType=table"), 40410)
    assert registry.http.delete("/associations/resources/t-1?dryRun=true").status_code == 204
    assert len(registry.http.get("/associations/resources/t-1").json()) == 2
    resp = registry.http.delete("/associations/resources/t-1?associationType=key")
    assert resp.status_code == 204 and resp.content == b""
    assert [a["associationType"] for a in registry.http.get("/associations/resources/t-1").json()] == ["value"]
    # WEAK associations do not own their subject: a cascade leaves it alone
    assert registry.http.delete("/associations/resources/t-1?cascadeLifecycle=true").status_code == 204
    assert registry.http.get("/associations/resources/t-1").json() == []
    assert registry.http.get("/subjects").json() == ["k", "v"]
    assert registry.http.delete("/subjects/v").status_code == 200  # no longer associated


def test_cascading_delete_removes_the_owned_subject(registry):
    assert registry.http.post("/associations", json=strong()).status_code == 200
    raw(registry.http.delete("/associations/resources/t-2"), 40908)  # frozen
    assert registry.http.delete("/associations/resources/t-2?cascadeLifecycle=true").status_code == 204
    assert registry.http.get("/associations/resources/-/pay").json() == []
    assert registry.http.get("/subjects?deleted=true").json() == []  # permanently
    # the topic can be created again
    assert registry.http.post("/associations", json=strong(rid="t-2b")).status_code == 200


# ------------------------------------------------------------------ persistence


def test_associations_survive_a_restart_and_old_files_gain_the_table(tmp_path):
    db = tmp_path / "old.db"
    store = Store(db)
    store.close()
    with sqlite3.connect(db) as conn:  # a file written before associations existed
        conn.execute("DROP TABLE associations")
    assert "associations" not in {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master")}
    with RegistryServer(db) as srv:
        client = SchemaRegistryClient({"url": srv.url})
        client.register_schema("shared", Schema(AVSC, "AVRO"))
        client.create_association(_weak_request("orders", "shared"))
        client._rest_client.session.close()
    with RegistryServer(db) as srv:
        client = SchemaRegistryClient({"url": srv.url})
        (found,) = client.get_associations_by_resource_name("orders", "-")
        assert found.subject == "shared"
        client._rest_client.session.close()


# ------------------------------------------------------------------ confluent-kafka against serde registry serve


def _weak_request(topic: str, subject: str, namespace: str = "lkc-1", rid: str | None = None, atype: str = "value"):
    return AssociationCreateOrUpdateRequest(
        resource_name=topic,
        resource_namespace=namespace,
        resource_id=rid or f"id-{topic}-{namespace}",
        resource_type="topic",
        associations=[AssociationCreateOrUpdateInfo(subject=subject, association_type=atype, lifecycle="WEAK")],
    )


@pytest.fixture
def ckp(serde_registry_url):
    client = SchemaRegistryClient({"url": serde_registry_url})
    yield client
    client._rest_client.session.close()


class Counter:
    """Counts the association lookups a confluent-kafka client sends (an httpx event hook)."""

    def __init__(self, client: SchemaRegistryClient) -> None:
        self.paths: list[str] = []
        client._rest_client.session.event_hooks["request"].append(lambda request: self.paths.append(request.url.path))

    @property
    def lookups(self) -> int:
        return sum(p.startswith("/associations/resources/") for p in self.paths)


def _schema_id(frame: bytes) -> int:
    assert frame[0] == 0
    return int(struct.unpack(">I", frame[1:5])[0])


def test_confluent_serializer_and_serde_agree_on_the_associated_subject(ckp, serde_registry_url):
    shared_id = ckp.register_schema("shared-orders", Schema(AVSC, "AVRO"))
    response = ckp.create_association(_weak_request("orders", "shared-orders"))
    assert [(a.subject, a.association_type, a.lifecycle) for a in response.associations] == [
        ("shared-orders", "value", "WEAK")
    ]

    ser = AvroSerializer(ckp, AVSC)  # confluent-kafka 2.16's default: the ASSOCIATED strategy
    frame = ser({"id": 7}, SerializationContext("orders", MessageField.VALUE))
    assert _schema_id(frame) == shared_id
    assert "orders-value" not in ckp.get_subjects()

    strategy = AssociatedStrategy(open_registry(serde_registry_url))
    assert strategy("orders", False, "ex.Order") == "shared-orders"
    assert strategy("orders", True, "ex.Order") == "orders-key"  # nothing for the key: TOPIC fallback


def test_strong_association_through_confluent_client(ckp, serde_registry_url):
    request = AssociationCreateOrUpdateRequest(
        resource_name="pay",
        resource_namespace="lkc-9",
        resource_id="id-pay",
        associations=[AssociationCreateOrUpdateInfo(association_type="value", schema=Schema(AVSC, "AVRO"))],
    )
    (info,) = ckp.create_association(request).associations
    assert (info.subject, info.lifecycle) == (":.lkc-9:pay-value", "STRONG")
    conf = {"subject.name.strategy.conf": {"subject.name.strategy.kafka.cluster.id": "lkc-9"}}
    frame = AvroSerializer(ckp, AVSC, conf=conf)({"id": 1}, SerializationContext("pay", MessageField.VALUE))
    assert _schema_id(frame) == ckp.get_latest_version(":.lkc-9:pay-value").schema_id

    assert AssociatedStrategy(serde_registry_url, kafka_cluster_id="lkc-9")("pay", False, None) == ":.lkc-9:pay-value"
    assert AssociatedStrategy(serde_registry_url, kafka_cluster_id="lkc-0")("pay", False, None) == "pay-value"
    ckp.delete_associations("id-pay", cascade_lifecycle=True)
    assert ckp.get_associations_by_resource_name("pay", "-") == []


def test_fallbacks(ckp):
    registry = open_registry(ckp)
    assert AssociatedStrategy(registry)("t", False, "ex.Order") == "t-value"
    assert AssociatedStrategy(registry, fallback="RECORD")("t", False, "ex.Order") == "ex.Order"
    assert AssociatedStrategy(registry, fallback="topic_record")("t", True, "ex.Order") == "t-ex.Order"
    with pytest.raises(ConfigError, match="named schema"):
        AssociatedStrategy(registry, fallback="RECORD")("t", False, None)
    with pytest.raises(EncodeError, match="no subject is associated with the value of topic 't'.*NONE"):
        AssociatedStrategy(registry, fallback="NONE")("t", False, "ex.Order")
    with pytest.raises(ConfigError, match="NONE, RECORD, TOPIC, TOPIC_RECORD"):
        AssociatedStrategy(registry, fallback="SOMETIMES")
    with pytest.raises(ConfigError, match="its own fallback"):
        AssociatedStrategy(registry, fallback="ASSOCIATED")
    with pytest.raises(ConfigError):
        AssociatedStrategy(registry, cache_size=-1)
    # associated: no fallback applies
    ckp.register_schema("s", Schema(AVSC, "AVRO"))
    ckp.create_association(_weak_request("t", "s"))
    assert AssociatedStrategy(registry, fallback="NONE")("t", False, "ex.Order") == "s"


def test_more_than_one_associated_subject_is_an_error(ckp):
    ckp.register_schema("east", Schema(AVSC, "AVRO"))
    ckp.register_schema("west", Schema(AVSC, "AVRO"))
    ckp.create_association(_weak_request("orders", "east", namespace="lkc-east"))
    ckp.create_association(_weak_request("orders", "west", namespace="lkc-west"))
    registry = open_registry(ckp)
    assert registry.associated_subjects("orders", "-", False) == ["east", "west"]
    with pytest.raises(EncodeError, match="2 subjects are associated with the value of topic 'orders'.*east, west"):
        AssociatedStrategy(registry)("orders", False, None)
    assert AssociatedStrategy(registry, kafka_cluster_id="lkc-west")("orders", False, None) == "west"
    # confluent-kafka's serializer refuses the same situation
    with pytest.raises(Exception, match="Multiple associated subjects"):
        AvroSerializer(ckp, AVSC)({"id": 1}, SerializationContext("orders", MessageField.VALUE))


def test_cache_saves_the_lookup(ckp):
    ckp.register_schema("s", Schema(AVSC, "AVRO"))
    ckp.create_association(_weak_request("orders", "s"))
    counter = Counter(ckp)
    strategy = AssociatedStrategy(open_registry(ckp))
    assert strategy("orders", False, None) == "s"
    assert counter.lookups == 1
    assert strategy("orders", False, None) == "s"
    assert counter.lookups == 1  # from the cache: no request
    assert strategy("other", False, None) == "other-value"  # fallbacks are cached too
    assert strategy("other", False, None) == "other-value"
    assert counter.lookups == 2
    strategy.clear_cache()
    assert strategy("orders", False, None) == "s"
    assert counter.lookups == 3

    small = AssociatedStrategy(open_registry(ckp), cache_size=1)  # an LRU of one
    small("orders", False, None), small("a", False, None), small("orders", False, None)
    assert counter.lookups == 6
    uncached = AssociatedStrategy(open_registry(ckp), cache_size=0)
    uncached("orders", False, None), uncached("orders", False, None)
    assert counter.lookups == 8


def test_cache_is_shared_safely_between_threads(ckp):
    ckp.register_schema("s", Schema(AVSC, "AVRO"))
    ckp.create_association(_weak_request("orders", "s"))
    strategy = AssociatedStrategy(open_registry(ckp), cache_size=4)
    results: list[str] = []
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for n in range(20):
                results.append(strategy("orders" if n % 2 else f"t{(i + n) % 6}", False, None))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results.count("s") == 80 and len(results) == 160
    assert len(strategy._cache) <= 4


class _NoAssociations(BaseHTTPRequestHandler):
    """A registry that predates the associations API (404), or fails (500) for topic ``broken``."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        status, code = (500, 50001) if "/broken" in self.path else (404, 404)
        body = json.dumps({"error_code": code, "message": "HTTP 404 Not Found" if code == 404 else "store error"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_a_registry_without_associations_means_fallback():
    httpd = HTTPServer(("127.0.0.1", 0), _NoAssociations)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    client = SchemaRegistryClient({"url": f"http://127.0.0.1:{httpd.server_address[1]}", "max.retries": 0})
    try:
        registry = Registry(client, "old-registry")
        assert registry.associated_subjects("orders", "-", False) == []
        assert AssociatedStrategy(registry)("orders", True, None) == "orders-key"
        with pytest.raises(RegistryError) as info:
            AssociatedStrategy(registry)("broken", False, None)
        assert info.value.status == 500 and info.value.code == 50001
    finally:
        client._rest_client.session.close()
        httpd.shutdown()
        httpd.server_close()


# ------------------------------------------------------------------ resolve_strategy and mock://


def test_resolve_strategy_names(ckp):
    registry = open_registry(ckp)
    for name in ("associated", "ASSOCIATED", "AssociatedNameStrategy"):
        strategy = resolve_strategy(name, registry=registry, kafka_cluster_id="lkc-1", fallback="NONE")
        assert isinstance(strategy, AssociatedStrategy)
        assert (strategy.namespace, strategy.fallback) == ("lkc-1", "NONE")
    assert resolve_strategy("associated", registry=registry).fallback == "TOPIC"
    with pytest.raises(ConfigError, match="needs a registry"):
        resolve_strategy("associated")
    assert resolve_strategy("TopicNameStrategy", registry=registry, fallback="NONE") is topic_name
    with pytest.raises(ConfigError, match="associated, record, topic, topic_record"):
        resolve_strategy("nope")


def test_mock_client_associations():
    client = SchemaRegistryClient.new_client({"url": "mock://associations"})
    client.register_schema("shared", Schema(AVSC, "AVRO"))
    client.create_association(_weak_request("orders", "shared"))
    strategy = AssociatedStrategy(open_registry(client))
    assert strategy("orders", False, None) == "shared"
    assert strategy("orders", True, None) == "orders-key"
    assert AssociatedStrategy(open_registry(client), kafka_cluster_id="lkc-1")("orders", False, None) == "shared"
    assert AssociatedStrategy(open_registry(client), kafka_cluster_id="lkc-2")("orders", False, None) == "orders-value"


def test_many_query_values_are_harmless(registry):
    register(registry, "s")
    assert registry.http.post("/associations", json=weak(subject="s")).status_code == 200
    query = "&".join(f"associationType=t{i}" for i in range(3000)) + "&associationType=value"
    assert len(registry.http.get(f"/associations/resources/-/orders?{query}").json()) == 1
