"""``serde console``: a web UI over serde's engines for schemas and messages.

    from serde.console import ConsoleServer, load_config
    with ConsoleServer(load_config("console.toml"), port=0) as server:
        print(server.url)

Views (each a stable URL): ``/subjects``, ``/subjects/{subject}``,
``/subjects/{subject}/versions/{version}``, ``/subjects/{subject}/diff``,
``/subjects/{subject}/check``, ``/topics``, ``/topics/{topic}/messages``,
``/topics/{topic}/produce``; the same under ``/clusters/{name}/`` for every configured
cluster after the first. The console uses serde's registry client, deserializers,
serializers, compatibility checker, translator and conversion engine; it adds no format
logic. Nothing in serde imports it.
"""
from ._app import create_app
from ._config import Cluster, ConsoleConfig, load_config
from ._filter import FilterError, compile_filter
from ._server import ConsoleServer

__all__ = ["Cluster", "ConsoleConfig", "ConsoleServer", "FilterError", "compile_filter", "create_app", "load_config"]
