"""Builds serde's optional C extensions (the gateway's transcoders, serde/gateway/_speedups.c; the
serializer's common call, serde/serializers/_call.c; Avro's writer and reader for plain records,
serde/formats/_avro_writer.c and _avro_reader.c) and lists the packages; everything else is in
pyproject.toml.

The extensions are optional: without a C compiler serde installs and works the same, on its
pure-Python paths (benchmarks/README.md has the difference).
"""
from setuptools import Extension, find_packages, setup

FLAGS = ["-O2", "-std=c99", "-Wall", "-Wextra", "-Wno-unused-parameter"]

# The command line lives in cli/ in the repository but installs as serde_cli: a top-level
# "cli" package would collide with any other distribution's "cli" in the same environment.
setup(packages=[*find_packages(include=["serde", "serde.*"]), "serde_cli"], package_dir={"serde_cli": "cli"},
      ext_modules=[Extension("serde.gateway._speedups", ["serde/gateway/_speedups.c"], optional=True,
                             extra_compile_args=FLAGS),
                   Extension("serde.serializers._call", ["serde/serializers/_call.c"], optional=True,
                             extra_compile_args=FLAGS),
                   Extension("serde.formats._avro_writer", ["serde/formats/_avro_writer.c"], optional=True,
                             extra_compile_args=FLAGS),
                   Extension("serde.formats._avro_reader", ["serde/formats/_avro_reader.c"], optional=True,
                             extra_compile_args=FLAGS)])
