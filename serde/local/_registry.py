"""The registry process of ``serde local up``: ``python -m serde.local._registry --db F --port P``.

serde's registry server (``serde registry serve``'s :class:`RegistryServer`) in the
foreground, on loopback, until SIGTERM or SIGINT.
"""
from __future__ import annotations

import argparse
import signal
import sys
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m serde.local._registry")
    parser.add_argument("--db", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    from serde import SerdeError
    from serde.registry.server import RegistryServer

    try:
        server = RegistryServer(args.db, args.host, args.port, quiet=False)
    except SerdeError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1

    def stop(signum: int, frame: Any) -> None:
        server.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    print(f"serde registry serving {args.db} at {server.url}", file=sys.stderr, flush=True)
    server.serve_forever()
    print("serde registry stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
