"""What every format must do. Each format's test class subclasses AbstractFormatTests
and supplies a schema, good records, a record that does not fit (with the field path
the error must name) and bytes that are not a valid payload."""
from __future__ import annotations

from typing import Any, ClassVar

import pytest

import serde
from serde.formats import get_format


class AbstractFormatTests:
    format_name: ClassVar[str]
    schema_text: ClassVar[str]
    records: ClassVar[list[Any]]
    bad_record: ClassVar[Any]
    bad_record_path: ClassVar[str]
    bad_bytes: ClassVar[bytes]

    @pytest.fixture
    def fmt(self):
        return get_format(self.format_name)

    @pytest.fixture
    def schema(self, fmt):
        return fmt.parse_schema(self.schema_text)

    def expected(self, record: Any) -> Any:
        """What decoding gives back for ``record`` (formats may normalise)."""
        return record

    def test_registered_under_its_name(self, fmt):
        assert fmt.name == self.format_name
        assert self.format_name in serde.available_formats()

    def test_round_trip_each_record(self, fmt, schema):
        for record in self.records:
            assert fmt.decode(schema, fmt.encode(schema, record)) == self.expected(record)

    def test_batch_round_trip_matches_single(self, fmt, schema):
        many = fmt.encode_many(schema, self.records)
        assert many == [fmt.encode(schema, r) for r in self.records]
        assert fmt.decode_many(schema, many) == [self.expected(r) for r in self.records]

    def test_record_that_does_not_fit_names_the_field(self, fmt, schema):
        with pytest.raises(serde.RecordInvalid) as info:
            fmt.encode(schema, self.bad_record)
        assert info.value.path == self.bad_record_path
        assert self.bad_record_path in str(info.value)

    def test_batch_error_names_the_record_position(self, fmt, schema):
        with pytest.raises(serde.RecordInvalid) as info:
            fmt.encode_many(schema, [*self.records, self.bad_record])
        assert info.value.location == f"record {len(self.records)}"

    def test_bad_bytes_raise_decode_error(self, fmt, schema):
        with pytest.raises(serde.DecodeError):
            fmt.decode(schema, self.bad_bytes)

    def test_invalid_schema_raises_schema_parse_error(self, fmt):
        with pytest.raises(serde.SchemaParseError):
            fmt.parse_schema("{ this is not a schema")
