"""``serde registry serve`` under load: the uvicorn stack against the wsgiref server it replaced.

    .venv/bin/python benchmarks/bench_registry.py [--seconds 10] [--connections 16]
        [--servers old,new,new-2] [--soak-requests 1000000] [--json]

The load generator is Debian's ``wrk`` (``apt-get install -y wrk``), written in C, so it is
not the bottleneck the Python clients of the first version of this benchmark were. Each
server runs in its own process on a fresh SQLite file seeded with 50 Avro schemas, and
gets the same phases, one after the other, in one run of this script:

* ``get-by-id``: ``GET /schemas/ids/{1..50}`` (what a deserializer does on a cache miss);
* ``lookup``: ``POST /subjects/bench-read`` with one of the 50 schemas (schema → id);
* ``register``: ``POST /subjects/bench-write/versions``, a new schema each call (one
  subject, compatibility NONE: every call writes a new version, the worst case for locking).

Servers: ``old`` is the threaded stdlib ``wsgiref`` server ``serde registry serve`` ran
before issue 13 (its code is kept at the end of this file), serving today's app through
its WSGI adapter, so only the web stack differs; ``new`` is ``serde registry serve``
(uvicorn, httptools, uvloop, Starlette) in one process, ``new-2`` the same with
``--workers 2``. The server's resident memory (the sum over its processes) is sampled
every 0.2 s; ``--soak-requests N`` adds a get-by-id run of N requests against each ``new``
server and reports its memory at 10 % and at the end, to show it stays flat.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

PHASES = ("get-by-id", "lookup", "register")
N_SCHEMAS = 50

_LUA_GET = """
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/schemas/ids/" .. (i %% %(n)d + 1))
end
"""

_LUA_LOOKUP = """
local bodies = {}
for k = 0, %(n)d - 1 do
  bodies[k] = string.format('{"schema": "{\\\\"type\\\\": \\\\"record\\\\", \\\\"name\\\\": \\\\"R%%d\\\\", \\\\"fields\\\\": [{\\\\"name\\\\": \\\\"a\\\\", \\\\"type\\\\": \\\\"int\\\\"}]}"}', k)
end
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/subjects/bench-read", {["Content-Type"] = "application/json"}, bodies[i %% %(n)d])
end
"""

_LUA_REGISTER = """
local counter = 1
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local i = 0
request = function()
  i = i + 1
  local body = string.format('{"schema": "{\\\\"type\\\\": \\\\"record\\\\", \\\\"name\\\\": \\\\"T%%dW%%d\\\\", \\\\"fields\\\\": [{\\\\"name\\\\": \\\\"a\\\\", \\\\"type\\\\": \\\\"int\\\\"}]}"}', tid, i)
  return wrk.format("POST", "/subjects/bench-write/versions", {["Content-Type"] = "application/json"}, body)
end
"""


def _schema(i: int) -> str:
    return json.dumps({"type": "record", "name": f"R{i}", "fields": [{"name": "a", "type": "int"}]})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and its child processes (the workers), in KiB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


class _Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.samples, self._done = pid, [], threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.samples.append((time.monotonic(), _rss_kib(self.pid)))
            self._done.wait(0.2)

    def stop(self) -> list[tuple[float, int]]:
        self._done.set()
        self.join()
        return self.samples


def _seed(url: str) -> None:
    import httpx

    with httpx.Client(base_url=url, timeout=30) as http:
        http.put("/config/bench-write", json={"compatibility": "NONE"}).raise_for_status()
        http.put("/config/bench-read", json={"compatibility": "NONE"}).raise_for_status()
        for i in range(N_SCHEMAS):  # ids 1..50
            http.post("/subjects/bench-read/versions", json={"schema": _schema(i)}).raise_for_status()
        # every phase's request answers 200 before it is timed
        assert http.get("/schemas/ids/50").status_code == 200
        assert http.post("/subjects/bench-read", json={"schema": _schema(7)}).json()["id"] == 8


def _wrk(url: str, script: str, seconds: float, connections: int, threads: int) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s", script, url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)

    def ms(label: str) -> float | None:
        m = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)\b", out)
        if not m:
            return None
        return round(float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)], 3)

    return {
        "requests": total,
        "req_per_s": round(rate, 1),
        "p50_ms": ms("50"),
        "p99_ms": ms("99"),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
    }


def _start(kind: str, db: str, port: int) -> subprocess.Popen:
    if kind == "old":
        cmd = [sys.executable, os.path.abspath(__file__), "--serve-old", db, str(port)]
    else:
        workers = kind.split("-")[1] if "-" in kind else "1"
        cmd = [sys.executable, "-m", "cli.main", "registry", "serve", "--db", db, "--port", str(port), "--quiet",
               "--workers", workers]
        cmd = [sys.executable, "-c", "from cli.registry import registry; registry()", *cmd[4:]]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import httpx

    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/subjects", timeout=1).raise_for_status()
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{kind} server did not start") from None
            time.sleep(0.1)


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run(servers: list[str], seconds: float, connections: int, threads: int, soak: int) -> dict:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        scripts = {}
        for phase, text in (("get-by-id", _LUA_GET), ("lookup", _LUA_LOOKUP), ("register", _LUA_REGISTER)):
            scripts[phase] = os.path.join(tmp, f"{phase}.lua")
            with open(scripts[phase], "w") as fh:
                fh.write(text % {"n": N_SCHEMAS})
        for kind in servers:
            db, port = os.path.join(tmp, f"{kind}.db"), _free_port()
            proc = _start(kind, db, port)
            url = f"http://127.0.0.1:{port}"
            try:
                _seed(url)
                sampler = _Sampler(proc.pid)
                sampler.start()
                out: dict[str, dict] = {}
                for phase in PHASES:
                    _wrk(url, scripts[phase], 1, connections, threads)  # warm-up
                    out[phase] = _wrk(url, scripts[phase], seconds, connections, threads)
                samples = sampler.stop()
                out["peak_rss_mib"] = round(max(s for _, s in samples) / 1024, 1)
                import httpx

                versions = httpx.get(url + "/subjects/bench-write/versions").json()
                out["register"]["versions_consistent"] = versions == list(range(1, len(versions) + 1))
                if soak and kind != "old":
                    out["soak"] = _soak(url, proc.pid, scripts["get-by-id"], soak, connections, threads)
                results[kind] = out
            finally:
                _stop(proc)
    return {
        "connections": connections,
        "wrk_threads": threads,
        "seconds_per_phase": seconds,
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs",
        "results": results,
    }


def _soak(url: str, pid: int, script: str, requests: int, connections: int, threads: int) -> dict:
    """get-by-id until ``requests`` answered; the server's RSS at 10 % and at the end."""
    sampler = _Sampler(pid)
    sampler.start()
    done, chunks = 0, []
    start = time.monotonic()
    while done < requests:
        r = _wrk(url, script, 10, connections, threads)
        done += r["requests"]
        chunks.append((done, _rss_kib(pid)))
    elapsed = time.monotonic() - start
    samples = sampler.stop()
    early = next(rss for n, rss in chunks if n >= requests * 0.1)
    return {
        "requests": done,
        "req_per_s": round(done / elapsed, 1),
        "rss_mib_at_10pct": round(early / 1024, 1),
        "rss_mib_at_end": round(chunks[-1][1] / 1024, 1),
        "peak_rss_mib": round(max(s for _, s in samples) / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default="old,new,new-2", help="comma-separated: old, new, new-N (N workers)")
    parser.add_argument("--seconds", type=int, default=10.0, help="duration of each phase (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--soak-requests", type=int, default=0, help="get-by-id requests of the memory run (0: none)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--serve-old", nargs=2, metavar=("DB", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_old:
        _serve_old(args.serve_old[0], int(args.serve_old[1]))
        return
    report = run(args.servers.split(","), args.seconds, args.connections, args.threads, args.soak_requests)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"wrk -t{report['wrk_threads']} -c{report['connections']}, {report['seconds_per_phase']} s per phase,"
          f" Python {report['python']}, {report['machine']}")
    print(f"{'server':<8}{'phase':<12}{'req/s':>10}{'vs old':>8}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
    old = report["results"].get("old")
    for kind, out in report["results"].items():
        for phase in PHASES:
            r = out[phase]
            ratio = f"{r['req_per_s'] / old[phase]['req_per_s']:.2f}x" if old else ""
            print(f"{kind:<8}{phase:<12}{r['req_per_s']:>10}{ratio:>8}{r['p50_ms']:>9}{r['p99_ms']:>9}{r['non_2xx']:>9}")
        print(f"{kind:<8}peak RSS {out['peak_rss_mib']} MiB; register versions consistent:"
              f" {out['register']['versions_consistent']}")
        if "soak" in out:
            s = out["soak"]
            print(f"{kind:<8}soak: {s['requests']} get-by-id at {s['req_per_s']}/s; RSS {s['rss_mib_at_10pct']} MiB"
                  f" at 10 %, {s['rss_mib_at_end']} MiB at the end, peak {s['peak_rss_mib']} MiB")


# --------------------------------------------------------------------------- the old server
# ``serde registry serve`` before issue 13 (commit 58d1ad3, serde/registry/server.py): a
# threaded stdlib wsgiref server with HTTP/1.1 keep-alive, kept here only to be measured.


def _serve_old(db: str, port: int) -> None:
    import ssl
    import wsgiref.simple_server as ws
    from socketserver import ThreadingMixIn

    from serde.registry._app import RegistryApp
    from serde.registry._store import Store

    class _Body:
        def __init__(self, rfile, length):
            self._rfile, self.remaining = rfile, length

        def read(self, size=-1):
            if self.remaining <= 0:
                return b""
            size = self.remaining if size is None or size < 0 else min(size, self.remaining)
            data = self._rfile.read(size)
            self.remaining -= len(data)
            if not data:
                self.remaining = 0
            return data

    class _Handler(ws.WSGIRequestHandler):
        protocol_version = "HTTP/1.1"

        def get_environ(self):
            env = super().get_environ()
            env["REQUEST_URI"] = self.path
            return env

        def handle(self):
            self.close_connection = True
            self._handle_one()
            while not self.close_connection:
                self._handle_one()

        def _handle_one(self):
            try:
                self.raw_requestline = self.rfile.readline(65537)
                if not self.raw_requestline:
                    self.close_connection = True
                    return
                if not self.parse_request():
                    return
                length = max(int(self.headers.get("Content-Length") or 0), 0)
                body = _Body(self.rfile, length)
                handler = ws.ServerHandler(body, self.wfile, self.get_stderr(), self.get_environ(), multithread=True)
                handler.http_version = "1.1"
                handler.request_handler = self
                handler.run(self.server.get_app())
                if body.remaining:
                    body.read(body.remaining)
            except (ConnectionError, ssl.SSLError, TimeoutError, OSError):
                self.close_connection = True

        def log_message(self, format, *args):  # noqa: A002
            pass

    class _Server(ThreadingMixIn, ws.WSGIServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 128

        def get_request(self):
            sock, addr = super().get_request()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock, addr

    store = Store(db)
    httpd = _Server(("127.0.0.1", port), _Handler)
    httpd.set_app(RegistryApp(store))
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=httpd.shutdown).start())
    httpd.serve_forever()
    httpd.server_close()
    store.close()


if __name__ == "__main__":
    main()
