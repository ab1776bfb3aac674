import serde
import serde.formats


def test_all_is_sorted_and_complete():
    assert serde.__all__ == sorted(serde.__all__)
    public = {name for name in dir(serde) if not name.startswith("_")}
    # submodules are reachable as attributes once imported; they are not API
    modules = {name for name in public if type(getattr(serde, name)).__name__ == "module"}
    assert public - modules == set(serde.__all__)


def test_formats_all_is_sorted():
    assert serde.formats.__all__ == sorted(serde.formats.__all__)


def test_exports_claim_the_serde_module():
    for name in serde.__all__:
        obj = getattr(serde, name)
        if isinstance(obj, type):
            assert obj.__module__ == "serde", name


def test_every_error_derives_from_serde_error():
    errors = [getattr(serde, n) for n in serde.__all__ if n.endswith("Error") or n in ("FormatUnavailable", "RecordInvalid", "SubjectNotFound", "SchemaNotFound", "VersionNotFound")]
    assert errors
    for error in errors:
        assert issubclass(error, serde.SerdeError), error
