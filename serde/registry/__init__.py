"""Schema registries: the embedded SQLite registry, in process or served over HTTP.

    from serde.registry import EmbeddedRegistry, RegistryServer
    reg = EmbeddedRegistry(".serde/registry.db")       # reg.client: a SchemaRegistryClient
    with RegistryServer(".serde/registry.db") as srv:  # srv.url: http://127.0.0.1:<port>
        ...
"""
from serde.registry.embedded import EmbeddedRegistry
from serde.registry.server import RegistryServer, serve

__all__ = ["EmbeddedRegistry", "RegistryServer", "serve"]

for _name in __all__:
    globals()[_name].__module__ = "serde.registry"
del _name
