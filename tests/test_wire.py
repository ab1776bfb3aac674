import uuid

import pytest

import serde
from serde import _wire


@pytest.mark.parametrize(
    "indexes, encoded",
    [([0], b"\x00"), ([1], b"\x02\x02"), ([0, 1], b"\x04\x00\x02"), ([2, 3], b"\x04\x04\x06"), ([64], b"\x02\x80\x01")],
)
def test_message_indexes_match_confluent_layout(indexes, encoded):
    assert _wire.encode_message_indexes(indexes) == encoded
    assert _wire.decode_message_indexes(encoded + b"rest", 0) == (indexes, len(encoded))


def test_full_form_of_zero_index_is_accepted():
    assert _wire.decode_message_indexes(b"\x02\x00", 0) == ([0], 2)


@pytest.mark.parametrize("data", [b"\x02", b"\x02\x80", b"\x03\x00", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"])
def test_bad_message_indexes_are_framing_errors(data):
    with pytest.raises(serde.FramingError):
        _wire.decode_message_indexes(data, 0)


def test_prefix_is_magic_and_big_endian_id():
    assert _wire.prefix(1) == b"\x00\x00\x00\x00\x01"
    assert _wire.prefix(0x01020304) == b"\x00\x01\x02\x03\x04"
    with pytest.raises(serde.FramingError):
        _wire.prefix(2**32)


def test_guid_frame_and_header_detection():
    guid = uuid.UUID("01234567-89ab-cdef-0123-456789abcdef")
    framed = _wire.guid_prefix(guid) + b"payload"
    assert _wire.read_frame(framed) == (guid, 17, False)
    headers = [("__value_schema_id", _wire.guid_prefix(guid))]
    assert _wire.read_frame(b"payload", headers) == (guid, 0, True)
    # a key header does not apply to the value, and vice versa
    with pytest.raises(serde.FramingError):
        _wire.read_frame(b"payload", [("__key_schema_id", _wire.prefix(3))])
    assert _wire.read_frame(b"payload", [("__key_schema_id", _wire.prefix(3))], is_key=True) == (3, 0, True)


def test_last_header_wins_and_null_headers_are_ignored():
    headers = [("__value_schema_id", _wire.prefix(1)), ("__value_schema_id", _wire.prefix(2)), ("__value_schema_id", None)]
    assert _wire.read_frame(b"x", headers)[0] == 2
    assert _wire.read_frame(_wire.prefix(9) + b"x", [("__value_schema_id", None)]) == (9, 5, False)
