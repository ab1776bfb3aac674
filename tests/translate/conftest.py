"""Sample schemas for the translation tests: one rich Avro record used by every round trip."""
from __future__ import annotations

import json

import pytest

ORDER = {
    "type": "record",
    "name": "Order",
    "namespace": "com.acme",
    "doc": "An order\nwith two lines of doc",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "late", "type": ["string", "null"], "default": "none"},
        {"name": "bare", "type": ["null", "string"]},
        {"name": "qty", "type": "int", "default": 1, "doc": "how many"},
        {"name": "ratio", "type": "float"},
        {"name": "total", "type": "double"},
        {"name": "paid", "type": "boolean"},
        {"name": "blob", "type": "bytes"},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "atu", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}], "default": None},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "DONE"], "default": "NEW", "doc": "state"}},
        {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}},
        {"name": "light", "type": {"type": "enum", "name": "Light", "namespace": "x", "symbols": ["RED", "GREEN"], "default": "GREEN"}},
        {"name": "status2", "type": ["null", "Status"], "default": None},
        {
            "name": "ship",
            "type": {"type": "record", "name": "Address", "namespace": "com.geo", "doc": "where", "fields": [{"name": "city", "type": "string"}]},
            "doc": "ship to",
        },
        {"name": "bill", "type": ["null", "com.geo.Address"], "default": None},
        {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line", "fields": [{"name": "sku", "type": "string"}]}}},
        {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
        {"name": "mtags", "type": ["null", {"type": "array", "items": "string"}]},
        {"name": "attrs", "type": {"type": "map", "values": "double"}},
        {"name": "u", "type": ["int", "string", "com.geo.Address"]},
        {"name": "nu", "type": ["null", "long", "string"], "default": None},
    ],
}


@pytest.fixture
def order_avro() -> str:
    return json.dumps(ORDER)
