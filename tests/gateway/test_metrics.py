"""Metrics, the status line and the HTTP endpoint, against the real broker: the numbers
match what was processed."""
from __future__ import annotations

import re
import time
import uuid

import pytest

from serde.gateway.metrics import Metrics

from .helpers import gateway_thread, http_get, kafka_toml, numbers_route, produce, read_topic, write_config

pytestmark = pytest.mark.kafka


def _samples(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


@pytest.mark.parametrize("delivery", ["at-least-once", "exactly-once"])
def test_metrics_match_what_was_processed(tmp_path, kafka_bootstrap, make_topic, delivery):
    src, dst, dlq = make_topic(prefix="m-src"), make_topic(prefix="m-dst"), make_topic(prefix="m-dlq")
    extra = f'delivery = "{delivery}"\nmetrics_port = 0\ninstance_id = "{uuid.uuid4().hex[:6]}"'
    config = write_config(tmp_path, kafka_toml(kafka_bootstrap, str(tmp_path / "r.db"), extra=extra)
                          + numbers_route(src, dst, dlq, name="nums", keys=False))
    sent_at = int(time.time() * 1000)
    records = [(None, str(i).encode()) for i in range(10)] + [(None, b"x"), (None, b"y"), (None, b"1.5")]
    with gateway_thread(config) as gw:
        port = gw.http_port
        assert port
        deadline = time.monotonic() + 20
        while http_get(port, "/ready")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert http_get(port, "/ready") == (200, "ready\n")
        assert http_get(port, "/ping")[0] == 200
        assert http_get(port, "/nope")[0] == 404
        produce(kafka_bootstrap, src, records, timestamp=sent_at)
        assert len(read_topic(kafka_bootstrap, dst, 10, exact=False)) == 10
        while time.monotonic() < deadline:
            s = _samples(http_get(port, "/metrics")[1])
            if (s.get(f'serde_gateway_dead_lettered_total{{topic="{dlq}"}}') == 3
                    and f'serde_gateway_consumer_lag{{topic="{src}",partition="0"}}' in s):
                break
            time.sleep(0.1)
        status, body = http_get(port, "/metrics")
        line, _ = gw.metrics.status_line()
    assert status == 200
    s = _samples(body)
    assert s[f'serde_gateway_records_in_total{{topic="{src}"}}'] == 13
    assert s[f'serde_gateway_records_out_total{{topic="{dst}"}}'] == 10
    assert s[f'serde_gateway_dead_lettered_total{{topic="{dlq}"}}'] == 3
    errors = {k: v for k, v in s.items() if k.startswith("serde_gateway_conversion_errors_total")}
    assert sum(errors.values()) == 3
    assert all('route="nums"' in k and 'stage="TRANSFORMATION"' in k for k in errors), errors
    assert s[f'serde_gateway_consumer_lag{{topic="{src}",partition="0"}}'] == 0
    assert s["serde_gateway_end_to_end_latency_seconds_count"] == 13
    # every latency is at least the time between producing and the test's start, and bounded
    assert 0 <= s["serde_gateway_end_to_end_latency_seconds_sum"] / 13 < 30
    assert s['serde_gateway_end_to_end_latency_seconds_bucket{le="+Inf"}'] == 13
    assert s["serde_gateway_commits_total"] >= 1
    assert s["serde_gateway_ready"] == 1
    if delivery == "exactly-once":
        assert s["serde_gateway_aborts_total"] == 0
    assert re.search(r"status: in 13, out 10, dead-lettered 3, errors 3, lag 0, latency mean \d+ms", line), line
    assert gw.stats == {"consumed": 13, "produced": 10, "dead_lettered": 3, "commits": gw.metrics.commits,
                        "retries": 0, "aborts": 0, "errors": 3}


def test_status_line_and_prometheus_text_without_kafka():
    m = Metrics()
    m.consumed("in", 5)
    m.delivered("out", False, 4)
    m.delivered("dlq", True, 1)
    m.conversion_error("r", "VALUE_CONVERTER", "FramingError")
    m.lag[("in", 0)] = 7
    for seconds in (0.001, 0.02, 0.02, 0.3, 2.0):
        m.latency(seconds)
    line, snap = m.status_line()
    assert line.startswith("status: in 5, out 4, dead-lettered 1, errors 1, lag 7, latency mean 468ms p99<=2500ms")
    line2, _ = m.status_line(snap)
    assert "/s in" in line2
    text = m.prometheus()
    s = _samples(text)
    assert s['serde_gateway_conversion_errors_total{route="r",stage="VALUE_CONVERTER",reason="FramingError"}'] == 1
    assert s['serde_gateway_end_to_end_latency_seconds_bucket{le="0.025"}'] == 3
    assert s['serde_gateway_end_to_end_latency_seconds_bucket{le="+Inf"}'] == 5
    assert "# TYPE serde_gateway_end_to_end_latency_seconds histogram" in text
    assert m.latency_quantile(0.5) == 0.025


def test_metrics_listen_on_loopback_unless_told_otherwise(tmp_path):
    import urllib.request

    from serde.gateway import Gateway, parse_config
    from serde.gateway.metrics import MetricsServer

    server = MetricsServer(Metrics(), 0).start()
    try:
        assert server._server.server_address[0] == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/ping", timeout=5) as response:
            assert response.read() == b"pong\n"
    finally:
        server.close()
    server = MetricsServer(Metrics(), 0, "0.0.0.0").start()  # asked for: every interface
    try:
        assert server._server.server_address[0] == "0.0.0.0"
    finally:
        server.close()

    import tomllib

    data = tomllib.loads(kafka_toml("127.0.0.1:1", str(tmp_path / "r.db")) + numbers_route("a", "b", "c"))
    assert Gateway(parse_config(data)).metrics_host == "127.0.0.1"
    data["gateway"]["metrics_host"] = "0.0.0.0"
    assert Gateway(parse_config(data)).metrics_host == "0.0.0.0"
    assert Gateway(parse_config(data), metrics_host="::1").metrics_host == "::1"  # --metrics-host wins


def test_metrics_host_needs_a_metrics_port(tmp_path):
    from click.testing import CliRunner

    from cli.main import cli

    config = write_config(tmp_path, kafka_toml("127.0.0.1:1", str(tmp_path / "r.db")) + numbers_route("a", "b", "c"))
    result = CliRunner().invoke(cli, ["gateway", "run", str(config), "--metrics-host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "--metrics-host needs --metrics-port" in result.stderr
