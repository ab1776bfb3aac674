"""Conversion between formats: records, files and streams (``serde.convert``, ``serde convert``).

``_api`` reads and writes every format (framings, schemas by inference or registry, error
policy, reports); ``_chunked`` splits large files into record-aligned chunks for workers.
``serde`` re-exports the public names.
"""
from ._api import ConversionReport, convert

__all__ = ["ConversionReport", "convert"]
