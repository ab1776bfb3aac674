"""Several processes registering at once: one id per schema, versions 1..N with no gaps."""
from __future__ import annotations

import json
import multiprocessing

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from serde.registry import EmbeddedRegistry, RegistryServer

PROCESSES = 4
PER_PROCESS = 8
SHARED = json.dumps({"type": "record", "name": "Shared", "fields": [{"name": "a", "type": "int"}]})


def _own(proc: int, i: int) -> str:
    return json.dumps({"type": "record", "name": f"P{proc}N{i}", "fields": [{"name": "a", "type": "int"}]})


def _worker(target: str, proc: int, barrier, out) -> None:
    if target.startswith("http"):
        client = SchemaRegistryClient({"url": target})
        reg = None
    else:
        reg = EmbeddedRegistry(target)
        client = reg.client
    barrier.wait()
    results = []
    for i in range(PER_PROCESS):
        # the same schema from every process, in a shared subject and in the process's own
        shared_id = client.register_schema("shared", Schema(SHARED, "AVRO"))
        own_subject_id = client.register_schema(f"mine-{proc}", Schema(SHARED, "AVRO"))
        # a distinct schema per (process, i), all in one subject: versions must not collide
        seq = client.register_schema_full_response("seq", Schema(_own(proc, i), "AVRO"))
        results.append((shared_id, own_subject_id, seq.schema_id, seq.version))
    out.put((proc, results))
    if reg is not None:
        reg.close()


def _run(target: str) -> list[tuple[int, list[tuple[int, int, int, int]]]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(target, p, barrier, out)) for p in range(PROCESSES)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return results


@pytest.mark.parametrize("transport", ["http", "sqlite-file"])
def test_concurrent_registration(tmp_path, transport):
    db = tmp_path / "reg.db"
    with EmbeddedRegistry(db) as reg:
        reg.client.set_compatibility("seq", "NONE")
    server = RegistryServer(db).start() if transport == "http" else None
    try:
        results = _run(server.url if server else str(db))
    finally:
        if server:
            server.stop()
    shared_ids = {r[0] for _, rs in results for r in rs} | {r[1] for _, rs in results for r in rs}
    assert len(shared_ids) == 1  # one schema, one id, whoever registered it first
    seq_ids = [r[2] for _, rs in results for r in rs]
    seq_versions = [r[3] for _, rs in results for r in rs]
    assert len(set(seq_ids)) == PROCESSES * PER_PROCESS
    assert shared_ids.isdisjoint(seq_ids)
    assert sorted(seq_versions) == list(range(1, PROCESSES * PER_PROCESS + 1))
    with EmbeddedRegistry(db) as reg:
        c = reg.client
        assert c.get_versions("shared") == [1]
        assert c.get_versions("seq") == list(range(1, PROCESSES * PER_PROCESS + 1))
        for p in range(PROCESSES):
            assert c.get_versions(f"mine-{p}") == [1]
        # ids are dense: 1 shared schema + one per (process, i)
        assert sorted(shared_ids | set(seq_ids)) == list(range(1, PROCESSES * PER_PROCESS + 2))
