"""CSV → Avro container file: serde.convert against a plain pipeline in the same run.

The peer is what people write by hand: ``csv.DictReader``, a cast per field, and
``fastavro.writer``. Each side runs in its own process so peak memory (max RSS) is its
own; both read the same generated file and must write the same records.

    python benchmarks/bench_csv_to_avro.py              # 1,000,000 rows (~100 MB), and 250,000
    python benchmarks/bench_csv_to_avro.py --quick      # 50,000 rows
    python benchmarks/bench_csv_to_avro.py --json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCHEMA = {
    "type": "record", "name": "Sale", "namespace": "bench",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "created", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "SHIPPED", "CANCELLED"]}},
        {"name": "customer", "type": "string"},
        {"name": "total", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}},
        {"name": "qty", "type": "int"},
        {"name": "weight", "type": "double"},
        {"name": "gift", "type": "boolean"},
        {"name": "city", "type": "string"},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}
HEADER = [f["name"] for f in SCHEMA["fields"]]


def generate(path: Path, rows: int) -> None:
    rnd = random.Random(42)
    names = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov", "Zoë \"Z\" Ünïcødé"]
    cities = ["Berlin", "New York", "Tokyo", "São Paulo", "Oslo, NO"]
    statuses = ["NEW", "PAID", "SHIPPED", "CANCELLED"]
    import csv
    import uuid

    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        base = 1_700_000_000_000
        for i in range(rows):
            ms = base + rnd.randrange(10**10)
            writer.writerow([
                i, str(uuid.UUID(int=rnd.getrandbits(128))),
                time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z",
                time.strftime("%Y-%m-%d", time.gmtime(ms // 1000)), rnd.choice(statuses), rnd.choice(names),
                f"{rnd.randrange(10**7) / 100:.2f}", rnd.randrange(1, 50), round(rnd.random() * 30, 3),
                "true" if rnd.random() < 0.1 else "false", rnd.choice(cities),
                "" if rnd.random() < 0.7 else "leave at the door",
            ])


def run_serde(src: str, dst: str) -> int:
    import serde

    report = serde.convert(src, dst, from_format="csv", to_format="avro", schema=json.dumps(SCHEMA))
    return report.written


def run_plain(src: str, dst: str) -> int:
    import csv
    import datetime as dt
    import decimal
    import uuid

    import fastavro

    parsed = fastavro.parse_schema(SCHEMA)

    def records():
        with open(src, newline="", encoding="utf-8") as stream:
            for row in csv.DictReader(stream):
                yield {
                    "id": int(row["id"]), "uid": uuid.UUID(row["uid"]),
                    "created": dt.datetime.fromisoformat(row["created"].replace("Z", "+00:00")),
                    "day": dt.date.fromisoformat(row["day"]), "status": row["status"], "customer": row["customer"],
                    "total": decimal.Decimal(row["total"]), "qty": int(row["qty"]), "weight": float(row["weight"]),
                    "gift": row["gift"] == "true", "city": row["city"], "note": row["note"] or None,
                }

    count = 0

    def counted():
        nonlocal count
        for record in records():
            count += 1
            yield record

    with open(dst, "wb") as out:
        fastavro.writer(out, parsed, counted())
    return count


def child(which: str, src: str, dst: str) -> None:
    started = time.perf_counter()
    written = (run_serde if which == "serde" else run_plain)(src, dst)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"written": written, "seconds": seconds, "peak_mib": peak_kib / 1024}))


def measure(which: str, src: Path, dst: Path) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", which, str(src), str(dst)], capture_output=True,
                            text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def same_records(a: Path, b: Path) -> bool:
    import fastavro

    with open(a, "rb") as x, open(b, "rb") as y:
        return all(r == s for r, s in zip(fastavro.reader(x), fastavro.reader(y), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="*", default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=3, metavar=("WHICH", "SRC", "DST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    sizes = args.rows or ([50_000] if args.quick else [250_000, 1_000_000])
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            src = Path(tmp) / f"sales-{rows}.csv"
            generate(src, rows)
            mib = src.stat().st_size / 2**20
            ours = measure("serde", src, Path(tmp) / "serde.avro")
            theirs = measure("plain", src, Path(tmp) / "plain.avro")
            assert ours["written"] == theirs["written"] == rows
            assert same_records(Path(tmp) / "serde.avro", Path(tmp) / "plain.avro"), "the two outputs differ"
            results.append({"rows": rows, "input_mib": round(mib, 1),
                            "serde_rows_per_s": round(rows / ours["seconds"]), "serde_peak_mib": round(ours["peak_mib"], 1),
                            "plain_rows_per_s": round(rows / theirs["seconds"]), "plain_peak_mib": round(theirs["peak_mib"], 1),
                            "speedup": round(theirs["seconds"] / ours["seconds"], 2)})
    if args.json:
        print(json.dumps({"python": platform.python_version(), "cpus": os.cpu_count(), "results": results}, indent=2))
        return
    print(f"CSV -> Avro OCF; Python {platform.python_version()}, {os.cpu_count()} cores; outputs checked equal")
    print(f"{'rows':>10} {'MiB':>6} {'serde rows/s':>13} {'peak MiB':>9} {'plain rows/s':>13} {'peak MiB':>9} {'speedup':>8}")
    for r in results:
        print(f"{r['rows']:>10,} {r['input_mib']:>6} {r['serde_rows_per_s']:>13,} {r['serde_peak_mib']:>9} "
              f"{r['plain_rows_per_s']:>13,} {r['plain_peak_mib']:>9} {r['speedup']:>7}x")


if __name__ == "__main__":
    main()
