"""Builds serde's optional C extensions (the gateway's transcoders, serde/gateway/_speedups.c; the
serializer's common call, serde/serializers/_call.c; Avro's writer and reader for plain records,
serde/formats/_avro_native.c) and lists the packages; everything else is in pyproject.toml.

The extensions are optional: without a C compiler serde installs and works the same, on its
pure-Python paths (benchmarks/README.md has the difference).
"""
from setuptools import Extension, find_packages, setup

FLAGS = ["-O2", "-std=c99", "-Wall", "-Wextra", "-Wno-unused-parameter"]
SHARED = ["serde/_native"]  # civil.h: calendar arithmetic both the gateway and Avro use


def extension(name: str, source: str) -> Extension:
    return Extension(name, [source], optional=True, include_dirs=SHARED, depends=["serde/_native/civil.h"],
                     extra_compile_args=FLAGS)


# The command line lives in cli/ in the repository but installs as serde_cli: a top-level
# "cli" package would collide with any other distribution's "cli" in the same environment.
setup(packages=[*find_packages(include=["serde", "serde.*"]), "serde_cli"], package_dir={"serde_cli": "cli"},
      ext_modules=[extension("serde.gateway._speedups", "serde/gateway/_speedups.c"),
                   extension("serde.serializers._call", "serde/serializers/_call.c"),
                   extension("serde.formats._avro_native", "serde/formats/_avro_native.c")])
