"""Builds serde's optional C transcoders (serde/_speedups.c); everything else is in pyproject.toml.

The extension is optional: without a C compiler serde installs and works the same, its
gateway routes just take the pure-Python path (benchmarks/README.md has the difference).
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("serde._speedups", ["serde/_speedups.c"], optional=True,
                             extra_compile_args=["-O2", "-std=c99", "-Wall", "-Wextra", "-Wno-unused-parameter"])])
