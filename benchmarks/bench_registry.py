"""Registrations and lookups per second against ``serde registry serve`` with concurrent clients.

    PYTHONPATH=. python benchmarks/bench_registry.py [--clients 4] [--seconds 4] [--json]

Starts a ``RegistryServer`` on a fresh SQLite file in a temporary directory (in this
process, on a free loopback port), then runs each phase with ``--clients`` client processes
for ``--seconds`` seconds, every client holding one keep-alive ``httpx`` connection:

* ``register``: POST /subjects/{s}/versions, a new schema each time (one shared subject,
  compatibility NONE, so every call writes a new version: the worst case for locking);
* ``register-existing``: re-registering an already registered schema (idempotent, a read);
* ``lookup``: POST /subjects/{s} (schema → id/version);
* ``get-by-id``: GET /schemas/ids/{id} (what a deserializer does on a cache miss).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PHASES = ("register", "register-existing", "lookup", "get-by-id")


def _schema(client: int, i: int) -> str:
    return json.dumps({"type": "record", "name": f"C{client}R{i}", "fields": [{"name": "a", "type": "int"}]})


def _worker(url: str, phase: str, client: int, seconds: float, barrier, out) -> None:
    import httpx

    http = httpx.Client(base_url=url, timeout=60)
    latencies: list[float] = []
    errors = 0
    barrier.wait()
    deadline = time.perf_counter() + seconds
    i = 0
    while True:
        start = time.perf_counter()
        if start >= deadline:
            break
        if phase == "register":
            resp = http.post("/subjects/bench-write/versions", json={"schema": _schema(client, i)})
        elif phase == "register-existing":
            resp = http.post("/subjects/bench-read/versions", json={"schema": _schema(-1, i % 50)})
        elif phase == "lookup":
            resp = http.post("/subjects/bench-read", json={"schema": _schema(-1, i % 50)})
        else:
            resp = http.get(f"/schemas/ids/{1 + i % 50}")
        latencies.append(time.perf_counter() - start)
        if resp.status_code != 200:
            errors += 1
        i += 1
    http.close()
    out.put((len(latencies), errors, latencies))


def run(clients: int, seconds: float) -> dict:
    import httpx

    from serde.registry import RegistryServer

    with tempfile.TemporaryDirectory() as tmp, RegistryServer(os.path.join(tmp, "bench.db")) as server:
        with httpx.Client(base_url=server.url) as http:
            http.put("/config/bench-write", json={"compatibility": "NONE"}).raise_for_status()
            http.put("/config/bench-read", json={"compatibility": "NONE"}).raise_for_status()
            for i in range(50):  # ids 1..50, read by the read phases
                http.post("/subjects/bench-read/versions", json={"schema": _schema(-1, i)}).raise_for_status()
        ctx = multiprocessing.get_context("spawn")
        results = {}
        for phase in PHASES:
            barrier, out = ctx.Barrier(clients), ctx.Queue()
            procs = [ctx.Process(target=_worker, args=(server.url, phase, c, seconds, barrier, out)) for c in range(clients)]
            for p in procs:
                p.start()
            parts = [out.get(timeout=seconds + 120) for _ in procs]
            for p in procs:
                p.join()
            ops = sum(n for n, _, _ in parts)
            lat = sorted(x for _, _, ls in parts for x in ls)
            results[phase] = {
                "ops": ops,
                "errors": sum(e for _, e, _ in parts),
                "ops_per_s": round(ops / seconds, 1),
                "p50_ms": round(statistics.median(lat) * 1000, 2) if lat else None,
                "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 2) if lat else None,
            }
        with httpx.Client(base_url=server.url) as http:
            versions = http.get("/subjects/bench-write/versions").json()
        # every write landed exactly once: versions 1..N without gaps
        results["register"]["versions_consistent"] = versions == list(range(1, len(versions) + 1)) and len(
            versions
        ) == results["register"]["ops"] - results["register"]["errors"]
    return {
        "clients": clients,
        "seconds_per_phase": seconds,
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs",
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes (default 4)")
    parser.add_argument("--seconds", type=float, default=4.0, help="duration of each phase (default 4)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    report = run(args.clients, args.seconds)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"serde registry serve, {report['clients']} client processes, {report['seconds_per_phase']} s per phase,"
          f" Python {report['python']}, {report['machine']}")
    print(f"{'phase':<20}{'ops/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for phase, r in report["results"].items():
        print(f"{phase:<20}{r['ops_per_s']:>10}{r['p50_ms']:>10}{r['p99_ms']:>10}{r['errors']:>8}")
    print("register versions consistent:", report["results"]["register"]["versions_consistent"])


if __name__ == "__main__":
    main()
