"""The console's message browser on a big topic: time to the first page, time per older
page after it, and the console's memory while paging.

One run starts a Kafka broker (serde.local.KafkaBroker; or --bootstrap), fills a topic of
``--records`` Avro records (registry-framed, 4 partitions; a million by default) unless
it already holds them, starts ``serde console`` in process on a free port, and over HTTP:

* first page: ``GET /topics/{t}/messages`` (newest first, decoded), cold (new console,
  first request: consumer creation, metadata, schema fetch) and warm;
* per page: follows the "older" cursor ``--pages`` times, timing each request;
* a page in the middle by offset (``from_offset``/``to_offset``) and one by timestamp;
* RSS of the process (the console runs in it) after the first page and every 50 pages.

    python benchmarks/bench_console.py                    # 1,000,000 records, 500 pages of 50
    python benchmarks/bench_console.py --records 100000 --pages 100
    python benchmarks/bench_console.py --json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PARTITIONS = 4
SCHEMA = json.dumps({"type": "record", "name": "Reading", "namespace": "bench", "fields": [
    {"name": "sensor", "type": "string"},
    {"name": "seq", "type": "long"},
    {"name": "celsius", "type": "double"},
    {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
]})


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fill(bootstrap: str, registry_url: str, topic: str, records: int) -> float:
    import datetime as dt

    from confluent_kafka import Producer
    from confluent_kafka.serialization import MessageField, SerializationContext

    import serde

    ser = serde.serializer("avro", SCHEMA, registry_url)
    ctx = SerializationContext(topic, MessageField.VALUE)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50, "batch.num.messages": 10000,
                         "queue.buffering.max.messages": 500000, "compression.type": "lz4"})
    started = time.perf_counter()
    base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    for n in range(records):
        value = ser({"sensor": f"s-{n % 97}", "seq": n, "celsius": 20 + (n % 100) / 10,
                     "at": base + dt.timedelta(milliseconds=n), "tags": ["a", "b"]}, ctx)
        while True:
            try:
                producer.produce(topic, key=f"k{n}".encode(), value=value, partition=n % PARTITIONS)
                break
            except BufferError:
                producer.poll(0.05)
        if n % 10000 == 0:
            producer.poll(0)
    producer.flush(120)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--bootstrap", help="an existing broker (default: start one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import httpx

    from serde.console import Cluster, ConsoleConfig, ConsoleServer
    from serde.registry import RegistryServer

    broker = None
    bootstrap = args.bootstrap
    if bootstrap is None:
        from serde.local import KafkaBroker

        broker = KafkaBroker()
        broker.start()
        bootstrap = broker.bootstrap
    workdir = tempfile.mkdtemp(prefix="bench-console-")
    registry = RegistryServer(Path(workdir) / "registry.db").start()
    out: dict[str, Any] = {"records": args.records, "partitions": PARTITIONS, "page_size": args.page_size,
                           "python": platform.python_version(), "cpus": os.cpu_count()}
    try:
        from serde.local import create_topic

        topic = create_topic(bootstrap, f"bench-console-{args.records}", PARTITIONS)
        out["fill_seconds"] = round(fill(bootstrap, registry.url, topic, args.records), 1)
        out["rss_before_mib"] = round(rss_mib(), 1)
        config = ConsoleConfig([Cluster("bench", bootstrap, registry.url)], page_size=args.page_size)
        with ConsoleServer(config, port=0) as console, httpx.Client(base_url=console.url, timeout=60) as client:
            def get(path: str, **params: Any) -> tuple[float, str]:
                started = time.perf_counter()
                answer = client.get(path, params=params)
                elapsed = time.perf_counter() - started
                answer.raise_for_status()
                return elapsed, answer.text

            path = f"/topics/{topic}/messages"
            cold, page = get(path)
            rows = page.count('<tr id="m-')
            assert rows == args.page_size, rows
            out["first_page_cold_ms"] = round(cold * 1000, 1)
            warm = [get(path)[0] for _ in range(5)]
            out["first_page_warm_ms"] = round(statistics.median(warm) * 1000, 1)
            rss = [round(rss_mib(), 1)]
            times = []
            for n in range(args.pages):
                found = re.search(r'href="([^"]+)" id="older"', page)
                assert found, "no older page"
                url = found.group(1).replace("&amp;", "&")
                elapsed, page = get(url)
                assert page.count('<tr id="m-') == args.page_size
                times.append(elapsed)
                if (n + 1) % 50 == 0:
                    rss.append(round(rss_mib(), 1))
            times.sort()
            out["pages_followed"] = args.pages
            out["per_page_ms"] = {"median": round(statistics.median(times) * 1000, 1),
                                  "p95": round(times[int(len(times) * 0.95) - 1] * 1000, 1),
                                  "max": round(times[-1] * 1000, 1)}
            middle = args.records // PARTITIONS // 2
            out["middle_by_offset_ms"] = round(get(path, partition=1, from_offset=middle, to_offset=middle + args.page_size - 1)[0] * 1000, 1)
            out["by_timestamp_ms"] = round(get(path, since="2026-01-01T00:05:00Z")[0] * 1000, 1)
            out["filter_page_ms"] = round(get(path, filter="value.sensor == 's-5'")[0] * 1000, 1)
            out["rss_mib_every_50_pages"] = rss
    finally:
        registry.stop()
        if broker is not None:
            broker.stop()
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"topic: {out['records']:,} Avro records in {PARTITIONS} partitions (filled in {out['fill_seconds']} s)")
    print(f"first page ({args.page_size} records): cold {out['first_page_cold_ms']} ms, warm {out['first_page_warm_ms']} ms")
    p = out["per_page_ms"]
    print(f"older pages ({args.pages}): median {p['median']} ms, p95 {p['p95']} ms, max {p['max']} ms")
    print(f"page in the middle by offset: {out['middle_by_offset_ms']} ms; by timestamp: {out['by_timestamp_ms']} ms; "
          f"filtered page: {out['filter_page_ms']} ms")
    print(f"RSS MiB: before the console {out['rss_before_mib']}, then every 50 pages {out['rss_mib_every_50_pages']}")


if __name__ == "__main__":
    main()
