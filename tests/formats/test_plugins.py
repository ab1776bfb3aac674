"""Formats are plugins: registered by name, by entry point, loaded lazily."""
from importlib.metadata import EntryPoint

import pytest

import serde
from serde.formats import _registry
from serde.formats._base import Format, ParsedSchema


class UpperFormat(Format):
    """A toy format: text, upper-cased on the wire."""

    name = "upper"
    schema_type = None

    def parse_schema(self, source, **options):
        return ParsedSchema("upper")

    def encoder(self, schema, **options):
        return lambda value: value.upper().encode()

    def decoder(self, schema, reader=None, **options):
        return lambda data: data.decode().lower()


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.setattr(_registry, "_registered", {})
    monkeypatch.setattr(_registry, "_instances", {})
    monkeypatch.setattr(_registry, "_entry_points_loaded", False)


def test_builtin_table_is_sorted():
    assert list(_registry.BUILTIN_FORMATS) == sorted(_registry.BUILTIN_FORMATS)


def test_register_and_use_a_format(clean_registry):
    serde.register_format("upper", UpperFormat)
    fmt = serde.get_format("upper")
    assert fmt.encode(fmt.parse_schema(""), "abc") == b"ABC"
    assert "upper" in serde.available_formats()


def test_a_taken_name_is_refused_unless_clobbered(clean_registry):
    with pytest.raises(serde.FormatUnavailable, match="already registered"):
        serde.register_format("avro", UpperFormat)
    serde.register_format("upper", UpperFormat)
    serde.register_format("upper", "tests.formats.test_plugins:UpperFormat", clobber=True)
    assert isinstance(serde.get_format("upper"), UpperFormat)


def test_entry_points_are_discovered_lazily(clean_registry, monkeypatch):
    point = EntryPoint(name="upper", value="tests.formats.test_plugins:UpperFormat", group=_registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(_registry, "entry_points", lambda group: [point] if group == _registry.ENTRY_POINT_GROUP else [])
    assert "upper" in serde.available_formats()
    assert isinstance(serde.get_format("upper"), UpperFormat)


def test_an_entry_point_cannot_replace_a_builtin(clean_registry, monkeypatch):
    point = EntryPoint(name="avro", value="tests.formats.test_plugins:UpperFormat", group=_registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(_registry, "entry_points", lambda group: [point])
    assert type(serde.get_format("avro")).__name__ == "AvroFormat"


def test_unknown_format_lists_the_known_ones(clean_registry):
    with pytest.raises(serde.FormatUnavailable, match="unknown format 'xml'; known formats: avro, binary, csv"):
        serde.get_format("xml")


def test_missing_dependency_gives_the_install_hint(clean_registry):
    serde.register_format("ghost", "serde_ghost_dependency_xyz.module:Ghost")
    with pytest.raises(serde.FormatUnavailable, match="missing dependency"):
        serde.get_format("ghost")


def test_a_path_to_nothing_is_named(clean_registry):
    serde.register_format("nothing", "tests.formats.test_plugins:NoSuchClass")
    with pytest.raises(serde.FormatUnavailable, match="does not exist"):
        serde.get_format("nothing")
