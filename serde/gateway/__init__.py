"""Topic-to-topic format conversion: ``serde gateway run CONFIG``.

    from serde.gateway import load_config, run
    run(load_config("gateway.toml"))        # until SIGTERM/SIGINT

``Pipeline`` is the Kafka-free conversion step (bytes in, converted bytes or a
dead-letter record out); ``Gateway`` runs it between topics with at-least-once or
exactly-once delivery and counts what it does in ``Gateway.metrics``.
"""
from .config import GatewayConfig, RouteConfig, SideSpec, load_config, parse_config
from .kafka import Gateway, PartitionTracker, run
from .metrics import Metrics
from .pipeline import OutputRecord, Pipeline, Route, SourceRecord

__all__ = [
    "Gateway",
    "GatewayConfig",
    "Metrics",
    "OutputRecord",
    "PartitionTracker",
    "Pipeline",
    "Route",
    "RouteConfig",
    "SideSpec",
    "SourceRecord",
    "load_config",
    "parse_config",
    "run",
]
