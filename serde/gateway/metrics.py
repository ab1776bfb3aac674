"""The gateway's counters, its one-line status and its optional HTTP endpoint.

:class:`Metrics` is written by the gateway loop only (one thread), read by the status
line and by the HTTP thread; the counters are plain ints (a torn read is impossible for
one int under the GIL, and a scrape that is one record behind is fine).

Exposed in Prometheus text format on ``GET /metrics`` (``--metrics-port``)::

    serde_gateway_records_in_total{topic}                   records consumed
    serde_gateway_records_out_total{topic}                  records acknowledged on a target topic
    serde_gateway_dead_lettered_total{topic}                records acknowledged on a dead-letter topic
    serde_gateway_conversion_errors_total{route,stage,reason}   records that failed conversion
    serde_gateway_retries_total                             transient registry failures retried
    serde_gateway_commits_total                             offset commits (or committed transactions)
    serde_gateway_aborts_total                              aborted transactions (exactly-once)
    serde_gateway_consumer_lag{topic,partition}             high watermark - next offset to read
    serde_gateway_end_to_end_latency_seconds (histogram)    source timestamp -> acknowledged / committed
    serde_gateway_ready                                     1 once connected and assigned

``GET /ready`` answers 200 once the gateway is connected and has joined its group (with
or without partitions), 503 before that and while stopping; ``GET /ping`` always 200.
"""
from __future__ import annotations

import bisect
import ipaddress
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from .._errors import ConfigError

__all__ = ["LATENCY_BUCKETS", "Metrics", "MetricsServer"]

log = logging.getLogger("serde.gateway")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def _label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """What the gateway has done since it started."""

    def __init__(self) -> None:
        self.records_in: dict[str, int] = {}
        self.records_out: dict[str, int] = {}
        self.dead_lettered: dict[str, int] = {}
        self.errors: dict[tuple[str, str, str], int] = {}  # (route, stage, reason) -> count
        self.lag: dict[tuple[str, int], int] = {}
        self.retries = 0
        self.commits = 0
        self.aborts = 0
        self.ready = False
        self.started = time.monotonic()
        self._buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.latency_max = 0.0

    # -- writers (the gateway loop) ----------------------------------------------------
    def consumed(self, topic: str, n: int = 1) -> None:
        self.records_in[topic] = self.records_in.get(topic, 0) + n

    def delivered(self, topic: str, dead_letter: bool, n: int = 1) -> None:
        table = self.dead_lettered if dead_letter else self.records_out
        table[topic] = table.get(topic, 0) + n

    def conversion_error(self, route: str, stage: str, reason: str) -> None:
        key = (route, stage, reason)
        self.errors[key] = self.errors.get(key, 0) + 1

    def latency(self, seconds: float) -> None:
        if seconds < 0:
            seconds = 0.0
        self._buckets[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.latency_sum += seconds
        self.latency_count += 1
        if seconds > self.latency_max:
            self.latency_max = seconds

    def latencies(self, now: float, stamps_ms: list[int]) -> None:
        """:meth:`latency` of ``now - stamp`` for each source timestamp (milliseconds)."""
        buckets, bisect_left, bounds = self._buckets, bisect.bisect_left, LATENCY_BUCKETS
        total, top = 0.0, self.latency_max
        for stamp in stamps_ms:
            seconds = now - stamp / 1000.0
            if seconds < 0:
                seconds = 0.0
            buckets[bisect_left(bounds, seconds)] += 1
            total += seconds
            if seconds > top:
                top = seconds
        self.latency_sum += total
        self.latency_count += len(stamps_ms)
        self.latency_max = top

    # -- readers -----------------------------------------------------------------------
    @property
    def total_in(self) -> int:
        return sum(self.records_in.values())

    @property
    def total_out(self) -> int:
        return sum(self.records_out.values())

    @property
    def total_dead_lettered(self) -> int:
        return sum(self.dead_lettered.values())

    @property
    def total_errors(self) -> int:
        return sum(self.errors.values())

    @property
    def total_lag(self) -> int:
        return sum(max(0, v) for v in self.lag.values())

    def latency_quantile(self, q: float) -> float | None:
        """Upper bound of the bucket holding quantile ``q`` (None before any record)."""
        if not self.latency_count:
            return None
        rank = q * self.latency_count
        seen = 0
        for bound, count in zip(LATENCY_BUCKETS + (float("inf"),), list(self._buckets)):
            seen += count
            if seen >= rank:
                return bound if bound != float("inf") else self.latency_max
        return self.latency_max

    def status_line(self, previous: "tuple[float, int, int] | None" = None) -> tuple[str, tuple[float, int, int]]:
        """One line for stderr, plus the snapshot to pass next time (for rates)."""
        now = time.monotonic()
        n_in, n_out = self.total_in, self.total_out + self.total_dead_lettered
        rate = ""
        if previous is not None and now > previous[0]:
            span = now - previous[0]
            rate = f" ({(n_in - previous[1]) / span:.0f}/s in, {(n_out - previous[2]) / span:.0f}/s out)"
        mean = f"{self.latency_sum / self.latency_count * 1000:.0f}ms" if self.latency_count else "-"
        p99 = self.latency_quantile(0.99)
        p99_text = f"{p99 * 1000:.0f}ms" if p99 is not None else "-"
        line = (f"status: in {n_in}, out {self.total_out}, dead-lettered {self.total_dead_lettered}, "
                f"errors {self.total_errors}, lag {self.total_lag}, latency mean {mean} p99<={p99_text}{rate}")
        return line, (now, n_in, n_out)

    def prometheus(self) -> str:
        out: list[str] = []

        def family(name: str, kind: str, help_text: str, samples: list[tuple[str, Any]]) -> None:
            out.append(f"# HELP {name} {help_text}")
            out.append(f"# TYPE {name} {kind}")
            for labels, value in samples:
                out.append(f"{name}{labels} {value}")

        family("serde_gateway_records_in_total", "counter", "Records consumed from source topics.",
               [(f'{{topic="{_label(t)}"}}', v) for t, v in sorted(dict(self.records_in).items())])
        family("serde_gateway_records_out_total", "counter", "Converted records acknowledged on target topics.",
               [(f'{{topic="{_label(t)}"}}', v) for t, v in sorted(dict(self.records_out).items())])
        family("serde_gateway_dead_lettered_total", "counter", "Records acknowledged on dead-letter topics.",
               [(f'{{topic="{_label(t)}"}}', v) for t, v in sorted(dict(self.dead_lettered).items())])
        family("serde_gateway_conversion_errors_total", "counter", "Records that could not be converted, by reason.",
               [(f'{{route="{_label(r)}",stage="{_label(s)}",reason="{_label(c)}"}}', v)
                for (r, s, c), v in sorted(dict(self.errors).items())])
        family("serde_gateway_retries_total", "counter", "Transient registry failures retried.", [("", self.retries)])
        family("serde_gateway_commits_total", "counter", "Offset commits or committed transactions.", [("", self.commits)])
        family("serde_gateway_aborts_total", "counter", "Aborted transactions.", [("", self.aborts)])
        family("serde_gateway_consumer_lag", "gauge", "High watermark minus the next offset to read.",
               [(f'{{topic="{_label(t)}",partition="{p}"}}', v) for (t, p), v in sorted(dict(self.lag).items())])
        name = "serde_gateway_end_to_end_latency_seconds"
        out.append(f"# HELP {name} From the source record's timestamp to its output being acknowledged (committed).")
        out.append(f"# TYPE {name} histogram")
        seen = 0
        for bound, count in zip(LATENCY_BUCKETS + (float("inf"),), list(self._buckets)):
            seen += count
            le = "+Inf" if bound == float("inf") else repr(bound)
            out.append(f'{name}_bucket{{le="{le}"}} {seen}')
        out.append(f"{name}_sum {self.latency_sum}")
        out.append(f"{name}_count {self.latency_count}")
        family("serde_gateway_ready", "gauge", "1 once connected and assigned.", [("", int(self.ready))])
        return "\n".join(out) + "\n"


class MetricsServer:
    """``/metrics``, ``/ready`` and ``/ping`` on a port, served from a daemon thread.

    It listens on loopback (``127.0.0.1``) unless ``host`` says otherwise (``0.0.0.0`` or
    ``::`` for every interface, e.g. for a Prometheus in another container)."""

    def __init__(self, metrics: Metrics, port: int, host: str = "127.0.0.1",
                 ready: Callable[[], bool] | None = None) -> None:
        self.metrics = metrics
        is_ready = ready or (lambda: metrics.ready)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, metrics.prometheus(), "text/plain; version=0.0.4; charset=utf-8")
                elif path == "/ready":
                    ok = is_ready()
                    self._send(200 if ok else 503, "ready\n" if ok else "not ready\n")
                elif path in ("/ping", "/health", "/healthz"):
                    self._send(200, "pong\n")
                else:
                    self._send(404, "not found\n")

            def _send(self, status: int, body: str, ctype: str = "text/plain; charset=utf-8") -> None:
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                log.debug("metrics http: " + format, *args)

        server_class = _HTTPServer6 if ":" in host else ThreadingHTTPServer
        try:
            self._server = server_class((host, port), Handler)
        except OSError as exc:
            raise ConfigError(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}") from None
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="serde-gateway-metrics", daemon=True)

    def start(self) -> "MetricsServer":
        self._thread.start()
        host = self._server.server_address[0]
        shown = f"[{host}]" if ":" in host else host
        log.info("metrics on http://%s:%d/metrics (ready: /ready)%s", shown, self.port,
                 "" if _loopback(host) else "; not loopback: reachable from other machines")
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class _HTTPServer6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
