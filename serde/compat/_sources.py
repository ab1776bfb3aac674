"""Collect schemas for CI checks: a directory of schema files, and their earlier versions
from a git ref, a folder, or a schema registry.

Subjects come from file names (``orders-value.avsc`` → subject ``orders-value``; the
extension gives the schema type) unless a ``serde-compat.json`` config maps them explicitly::

    {"level": "BACKWARD",
     "subjects": {"orders-value": {"file": "orders.avsc", "level": "FULL_TRANSITIVE"}}}

A config applies to its own directory and everything below it: it names the subjects of
the files it lists (paths relative to the config's directory), and its ``level`` is the
default for the files below it, listed or not, unless a deeper config sets another. Every
schema file no config lists is a subject named after the file. Two files that end up with
the same subject are an error: map them to distinct subjects in a config.

References between files are found the way each format names them: Protobuf ``import``
lines (looked up from the importing file's directory, its parents up to the checked
directory, then ``-I/--proto-path`` directories; see ``serde._proto_files``), JSON Schema
``$ref`` to another file, Avro named types defined in another file.
"""
from __future__ import annotations

import json
import posixpath
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from serde._errors import ConfigError, SchemaParseError
from serde._proto_files import load_proto_imports, resolve_imports
from serde.compat._engine import check, normalise_level, normalise_schema_type
from serde.compat._types import CompatResult

__all__ = [
    "CONFIG_FILE",
    "FolderBaseline",
    "GitBaseline",
    "RegistryBaseline",
    "SchemaFile",
    "SubjectReport",
    "baseline_for",
    "check_directory",
    "check_files",
    "check_unique_subjects",
    "discover",
    "proto_path_keys",
]

CONFIG_FILE = "serde-compat.json"
EXTENSIONS = {".avsc": "AVRO", ".json": "JSON", ".proto": "PROTOBUF"}
DEFAULT_LEVEL = "BACKWARD"

Reader = Callable[[str], "str | None"]  # relative posix path → text, None when absent


@dataclass(frozen=True)
class SchemaFile:
    """One schema of the directory: its subject, relative path, type and configured level."""

    subject: str
    path: str  # posix, relative to the directory
    schema_type: str
    level: str | None = None


@dataclass
class SubjectReport:
    """The outcome for one subject: ``status`` is compatible, incompatible, new or invalid."""

    subject: str
    schema_type: str
    level: str
    file: str | None
    status: str
    versions: list[int] = field(default_factory=list)
    result: CompatResult | None = None
    error: str | None = None
    note: str = ""
    # (line, column) in ``file`` of each message's place in the new schema, where known
    locations: list[tuple[int, int] | None] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        if self.error:
            return [self.error]
        return list(self.result.messages) if self.result is not None else []


# --- discovering the directory -----------------------------------------------------------

def _load_config(config_path: Path) -> dict:
    try:
        config = json.loads(_decode(config_path.read_bytes(), str(config_path)))
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot read: {exc.strerror}") from exc
    except SchemaParseError as exc:
        raise ConfigError(str(exc)) from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{config_path}: not valid JSON: {exc.msg} (line {exc.lineno})") from exc
    if not isinstance(config, dict) or not isinstance(config.get("subjects") or {}, dict):
        raise ConfigError(f"{config_path}: expected an object with a 'subjects' object")
    return config


def discover(root: Path) -> list[SchemaFile]:
    """The schema files under ``root`` as subjects: as a ``serde-compat.json`` in their
    directory or above lists them, else named after the file.

    Raises ``ConfigError`` when two files end up with the same subject.
    """
    root = Path(root)
    config_dirs = sorted({p.parent.relative_to(root).as_posix() for p in root.rglob(CONFIG_FILE)
                          if p.is_file()}, key=lambda d: (d.count("/") + (d != "."), d))
    levels: dict[str, str | None] = {}
    found: list[SchemaFile] = []
    for rel_dir in config_dirs:  # parents before children
        config_path = root / rel_dir / CONFIG_FILE
        config = _load_config(config_path)
        inherited = next((levels[d] for d in _ancestors(rel_dir) if d in levels), None)
        default_level = config.get("level") or inherited
        if default_level:
            normalise_level(default_level)
        levels[rel_dir] = default_level
        for subject, spec in sorted((config.get("subjects") or {}).items()):
            spec = {"file": spec} if isinstance(spec, str) else dict(spec)
            if "file" not in spec:
                raise ConfigError(f"{config_path}: subject {subject!r} needs a 'file'")
            path = posixpath.normpath(posixpath.join(rel_dir, PurePosixPath(spec["file"]).as_posix()))
            schema_type = spec.get("type") or EXTENSIONS.get(PurePosixPath(path).suffix)
            if not schema_type:
                raise ConfigError(f"{config_path}: cannot tell the schema type of {path!r}; set 'type'")
            level = spec.get("level") or default_level
            found.append(SchemaFile(subject, path, normalise_schema_type(schema_type),
                                    normalise_level(level) if level else None))
    mapped = {item.path for item in found}
    for p in sorted(root.rglob("*")):
        if not (p.is_file() and p.suffix in EXTENSIONS and p.name != CONFIG_FILE):
            continue
        rel = p.relative_to(root).as_posix()
        if rel in mapped:
            continue
        # a file no config lists is a subject named after it, at its nearest config's level
        default = next((levels[d] for d in _ancestors(posixpath.dirname(rel) or ".") if d in levels), None)
        found.append(SchemaFile(p.stem, rel, EXTENSIONS[p.suffix], normalise_level(default) if default else None))
    return found


def _ancestors(rel_dir: str) -> list[str]:
    """``a/b`` → ``["a/b", "a", "."]`` (posix, relative to the checked directory)."""
    out = []
    while rel_dir not in ("", "."):
        out.append(rel_dir)
        rel_dir = posixpath.dirname(rel_dir)
    return [*out, "."]


def check_unique_subjects(items: Sequence[SchemaFile], root: Path | None = None) -> None:
    """``ConfigError`` listing the files when two of them would be checked as one subject."""
    by_subject: dict[str, list[str]] = {}
    for item in items:
        by_subject.setdefault(item.subject, []).append(item.path)
    clashes = {s: paths for s, paths in by_subject.items() if len(paths) > 1}
    if clashes:
        where = f" in {root}" if root is not None else ""
        lines = [f"subject {s!r}: {', '.join(paths)}" for s, paths in sorted(clashes.items())]
        raise ConfigError(
            f"more than one file{where} is checked as the same subject: " + "; ".join(lines)
            + f". Give each its own subject in a {CONFIG_FILE} (in their common parent directory,"
            " e.g. {\"subjects\": {\"orders-value\": {\"file\": \"avro/order.avsc\"}}}), or narrow"
            " the check with --type"
        )


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaParseError(
            f"{where}: not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})") from None


def _read_path(path: Path, shown: str) -> str | None:
    """A file's text, None when there is none; SchemaParseError naming it when unreadable."""
    if not path.is_file():
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SchemaParseError(f"{shown}: cannot read: {exc.strerror}") from exc
    return _decode(data, shown)


def _directory_reader(root: Path) -> Reader:
    def read(rel: str) -> str | None:
        path = Path(rel) if posixpath.isabs(rel) else Path(root) / rel
        return _read_path(path, rel)
    return read


# --- references between files ------------------------------------------------------------

def references_for(schema_type: str, rel_path: str, text: str, read: Reader,
                   all_files: Sequence[str] = (), proto_path: Sequence[str] = ()) -> dict[str, str]:
    """Import name → text for everything ``text`` refers to (transitively, dependencies first).

    Protobuf imports are looked up from the importing file's directory, its parents up to
    the root of ``read``, then ``proto_path`` (keys for ``read``: relative, or absolute
    filesystem paths); one found nowhere raises ``SchemaParseError``.
    """
    refs: dict[str, str] = {}
    if schema_type == "PROTOBUF":
        return _proto_refs(rel_path, text, read, proto_path)
    elif schema_type == "JSON":
        _json_refs(rel_path, text, read, refs, {rel_path})
    else:
        _avro_refs(text, read, all_files, refs, {rel_path})
    return refs


def _proto_refs(rel_path: str, text: str, read: Reader, proto_path: Sequence[str],
                fallback: Mapping[str, str] | None = None) -> dict[str, str]:
    def search_dirs(key: str) -> list[str]:
        if posixpath.isabs(key):  # a file from a -I directory outside the checked one
            return [posixpath.dirname(key), *proto_path]
        return [d if d != "." else "" for d in _ancestors(posixpath.dirname(key) or ".")] + list(proto_path)

    return resolve_imports(text, rel_path, read, search_dirs, fallback=fallback)


def _json_refs(rel_path: str, text: str, read: Reader, refs: dict[str, str], seen: set[str]) -> None:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError:
        return  # the parser reports it with its location
    for ref in _walk_refs(raw):
        base = ref.partition("#")[0]
        if not base or "://" in base or base in refs:
            continue
        target = (PurePosixPath(rel_path).parent / base).as_posix()
        body = read(target)
        if body is None or target in seen:
            continue
        seen.add(target)
        _json_refs(target, body, read, refs, seen)
        refs[base] = body


def _walk_refs(raw: object):
    if isinstance(raw, dict):
        for key, value in raw.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _walk_refs(value)
    elif isinstance(raw, list):
        for value in raw:
            yield from _walk_refs(value)


_AVRO_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string",
                    "record", "error", "enum", "fixed", "array", "map"}


def _avro_names(raw: object, namespace: str = "") -> tuple[set[str], set[str]]:
    """(full names defined, names used) in an Avro schema JSON."""
    defined: set[str] = set()
    used: set[str] = set()

    def walk(node: object, ns: str) -> None:
        if isinstance(node, str):
            if node not in _AVRO_PRIMITIVES:
                used.add(node if "." in node or not ns else f"{ns}.{node}")
                used.add(node)
        elif isinstance(node, list):
            for item in node:
                walk(item, ns)
        elif isinstance(node, dict):
            kind = node.get("type")
            if kind in ("record", "error", "enum", "fixed") and isinstance(node.get("name"), str):
                name = node["name"]
                space = name.rpartition(".")[0] if "." in name else node.get("namespace", ns)
                defined.add(name if "." in name else (f"{space}.{name}" if space else name))
                for f in node.get("fields", []) if isinstance(node.get("fields"), list) else []:
                    if isinstance(f, dict):
                        walk(f.get("type"), space)
                return
            if kind == "array":
                walk(node.get("items"), ns)
            elif kind == "map":
                walk(node.get("values"), ns)
            else:
                walk(kind, ns)

    walk(raw, namespace)
    return defined, used


def _avro_refs(text: str, read: Reader, all_files: Sequence[str], refs: dict[str, str],
               seen: set[str]) -> None:
    try:
        defined, used = _avro_names(json.loads(text))
    except json.JSONDecodeError:
        return
    missing = used - defined
    if not missing:
        return
    for other in all_files:
        if other in seen or not other.endswith(".avsc"):
            continue
        body = read(other)
        if body is None:
            continue
        try:
            other_defined, _ = _avro_names(json.loads(body))
        except json.JSONDecodeError:
            continue
        if other_defined & missing:
            seen.add(other)
            _avro_refs(body, read, all_files, refs, seen)  # its own dependencies go first
            refs[other] = body


# --- baselines: where earlier versions come from ----------------------------------------

@dataclass
class History:
    """Earlier versions of one subject (oldest first) and the level configured for it."""

    versions: list[int]
    schemas: list[tuple[str, dict[str, str]]]
    schema_type: str | None = None
    level: str | None = None


class GitBaseline:
    """The same files at a git ref (``--against git:main``)."""

    def __init__(self, ref: str, directory: Path, proto_path: Sequence[str] = ()) -> None:
        self.ref = ref
        self.proto_path = list(proto_path)
        self.directory = Path(directory).resolve()
        if not self.directory.is_dir():
            raise ConfigError(f"--against git:{ref}: {self.directory} is not a directory")
        try:
            top = self._git("rev-parse", "--show-toplevel").strip()
        except subprocess.CalledProcessError as exc:
            reason = (exc.stderr or "").strip().removeprefix("fatal: ")
            if "not a git repository" in reason:
                reason = "it is not inside a git repository (git:REF compares with the same files at a commit)"
            raise ConfigError(f"--against git:{ref}: cannot use git in {self.directory}: {reason}") from None
        except FileNotFoundError:
            raise ConfigError(f"--against git:{ref}: git is not installed (or not on PATH)") from None
        try:
            self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except subprocess.CalledProcessError:
            raise ConfigError(f"--against git:{ref}: the repository at {top} has no branch, tag or commit named "
                              f"{ref!r} (a shallow CI checkout may need `git fetch` of that ref first)") from None
        self.prefix = self.directory.relative_to(Path(top).resolve()).as_posix()
        self.describe = f"git:{ref}"

    def _git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.directory), *args], check=True,
                              capture_output=True, text=True).stdout

    def read(self, rel: str) -> str | None:
        if posixpath.isabs(rel):  # a -I directory outside the checked one: not versioned here
            return _read_path(Path(rel), rel)
        path = posixpath.normpath(rel if self.prefix in ("", ".") else f"{self.prefix}/{rel}")
        if path.startswith("../"):
            return None
        try:
            data = subprocess.run(["git", "-C", str(self.directory), "show", f"{self.ref}:{path}"],
                                  check=True, capture_output=True).stdout
        except subprocess.CalledProcessError:
            return None
        return _decode(data, f"{self.describe}:{path}")

    def history(self, item: SchemaFile, all_files: Sequence[str]) -> History:
        text = self.read(item.path)
        if text is None:
            return History([], [])
        refs = references_for(item.schema_type, item.path, text, self.read, all_files, self.proto_path)
        return History([1], [(text, refs)])


class FolderBaseline:
    """Earlier versions in a folder: the same relative path (one version), or a folder named
    after the subject holding numbered versions (``orders-value/1.avsc``, ``2.avsc``...)."""

    def __init__(self, folder: Path, proto_path: Sequence[str] = ()) -> None:
        self.folder = Path(folder)
        self.proto_path = list(proto_path)
        if not self.folder.is_dir():
            raise ConfigError(f"baseline folder {self.folder} does not exist")
        self.read = _directory_reader(self.folder)
        self.describe = str(self.folder)

    def history(self, item: SchemaFile, all_files: Sequence[str]) -> History:
        text = self.read(item.path)
        if text is not None:
            refs = references_for(item.schema_type, item.path, text, self.read, all_files, self.proto_path)
            return History([1], [(text, refs)])
        versions_dir = self.folder / item.subject
        if not versions_dir.is_dir():
            return History([], [])
        numbered = []
        for path in versions_dir.iterdir():
            match = re.match(r"^v?(\d+)", path.name)
            if path.is_file() and match:
                numbered.append((int(match.group(1)), path))
        numbered.sort()
        schemas = []
        for _, path in numbered:
            rel = path.relative_to(self.folder).as_posix()
            body = self.read(rel)
            schemas.append((body, references_for(item.schema_type, rel, body, self.read, all_files,
                                                 self.proto_path)))
        return History([n for n, _ in numbered], schemas)


def _client_reason(exc: BaseException) -> str:
    """A registry client's error in a few words (connection errors are long chains)."""
    text = str(exc).strip() or type(exc).__name__
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused (is the registry running at that address?)"
    return text.splitlines()[0] if text else type(exc).__name__


class RegistryBaseline:
    """All live versions of each subject in a schema registry, and the subject's level.

    ``client`` is a ``confluent_kafka.schema_registry.SchemaRegistryClient`` (or anything
    with the same ``get_versions``/``get_version``/``get_compatibility`` methods).
    """

    def __init__(self, client: object, describe: str = "registry") -> None:
        self.client = client
        self.describe = describe

    def history(self, item: SchemaFile, all_files: Sequence[str]) -> History:
        try:
            versions = sorted(self.client.get_versions(item.subject))
        except Exception as exc:  # the one place registry-client errors are translated
            if getattr(exc, "error_code", None) == 40401 or getattr(exc, "http_status_code", None) == 404:
                return History([], [], level=self._level(item.subject))
            raise ConfigError(f"registry {self.describe}: cannot list the versions of subject {item.subject!r}: "
                              f"{_client_reason(exc)}") from exc
        schemas, schema_type = [], None
        for version in versions:
            try:
                registered = self.client.get_version(item.subject, version)
                schema = registered.schema
                references = self._references(schema.references or [], {})
            except Exception as exc:  # noqa: BLE001 - translated here, as above
                raise ConfigError(f"registry {self.describe}: cannot read version {version} of subject "
                                  f"{item.subject!r}: {_client_reason(exc)}") from exc
            schema_type = (schema.schema_type or "AVRO").upper()
            schemas.append((schema.schema_str, references))
        return History(versions, schemas, schema_type, self._level(item.subject))

    def _references(self, references: Sequence[object], into: dict[str, str]) -> dict[str, str]:
        for ref in references:
            if ref.name in into:
                continue
            registered = self.client.get_version(ref.subject, ref.version)
            self._references(registered.schema.references or [], into)  # dependencies first
            into[ref.name] = registered.schema.schema_str
        return into

    def _level(self, subject: str) -> str | None:
        for args in ((subject,), ()):
            try:
                level = self.client.get_compatibility(*args)
            except Exception:  # no subject config (40408), or a client without the call
                continue
            if level:
                return str(getattr(level, "value", level)).upper()
        return None


def proto_path_keys(directory: Path, dirs: Sequence[Path]) -> list[str]:
    """``-I/--proto-path`` directories as reader keys: relative to ``directory`` (then they
    are versioned with it: a baseline reads them at its ref or folder) or, outside it,
    absolute filesystem paths (read as they are now, for both sides)."""
    base = Path(directory).resolve()
    keys = []
    for d in dirs:
        full = Path(d).resolve()
        if not full.is_dir():
            raise ConfigError(f"--proto-path {d}: not a directory")
        keys.append(full.relative_to(base).as_posix() if full == base or base in full.parents
                    else full.as_posix())
    return [("" if k == "." else k) for k in keys]


def _without_credentials(url: str) -> str:
    """A registry URL fit for messages: any user:password@ removed."""
    return re.sub(r"^([a-z]+://)[^/@]*@", r"\1", url)


def baseline_for(against: str, directory: Path, registry_client: Callable[[str], object] | None = None,
                 proto_path: Sequence[Path] = ()):
    """``git:REF`` → GitBaseline, ``http(s)://`` or ``mock://`` → RegistryBaseline, else a folder.

    ``proto_path``: extra directories for Protobuf imports (see :func:`proto_path_keys`).
    """
    keys = proto_path_keys(directory, proto_path)
    if against.startswith("git:"):
        return GitBaseline(against[4:] or "HEAD", directory, keys)
    if re.match(r"^(https?|mock)://", against):
        if registry_client is None:
            from confluent_kafka.schema_registry import SchemaRegistryClient

            def registry_client(url: str) -> object:
                return SchemaRegistryClient({"url": url})
        return RegistryBaseline(registry_client(against), describe=_without_credentials(against))
    return FolderBaseline(Path(against), keys)


# --- running the checks -----------------------------------------------------------------

def check_directory(directory: Path, baseline, *, level: str | None = None, policy: str = "STRICT",
                    schema_type: str | None = None, proto_path: Sequence[Path] = ()) -> list[SubjectReport]:
    """Check every schema file of ``directory`` against its history in ``baseline``.

    ``level`` overrides every other source; otherwise the config file's level, then the
    registry's level for the subject, then BACKWARD. Raises ``ConfigError`` when two files
    would be checked as one subject. A schema that cannot be read, decoded, parsed or have
    its references resolved is reported ``invalid``. Reports name files as
    ``directory/relative/path`` (what CI annotations need when run from the repository root).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(f"{directory} is not a directory")
    items = discover(directory)
    if schema_type:
        wanted = normalise_schema_type(schema_type)
        items = [i for i in items if i.schema_type == wanted]
    check_unique_subjects(items, directory)
    keys = proto_path_keys(directory, proto_path)
    read = _directory_reader(directory)
    all_files = [i.path for i in items]
    reports = []
    for item in items:
        shown = (directory / item.path).as_posix()

        def invalid(message: str) -> SubjectReport:
            return SubjectReport(item.subject, item.schema_type, level or item.level or DEFAULT_LEVEL,
                                 shown, "invalid", error=message)

        try:
            text = read(item.path)
            if text is None:
                reports.append(invalid(f"{shown}: file not found"))
                continue
            refs = references_for(item.schema_type, item.path, text, read, all_files, keys)
        except SchemaParseError as exc:
            reports.append(invalid(f"{shown}: {exc}"))
            continue
        try:
            history = baseline.history(item, all_files)
        except SchemaParseError as exc:
            reports.append(invalid(f"{shown}: baseline: {exc}"))
            continue
        chosen = normalise_level(level or item.level or history.level or DEFAULT_LEVEL)
        reports.append(_check_one(item.subject, item.schema_type, chosen, shown, (text, refs),
                                  history, policy))
    return reports


def check_files(schema_type: str, new_path: Path, previous_paths: Sequence[Path], *, level: str,
                policy: str = "STRICT", references: Mapping[str, str] | None = None,
                proto_path: Sequence[Path] = ()) -> SubjectReport:
    """Single check: one new schema file against previous files (oldest first).

    ``references`` win over files for the new schema; for the previous ones, files next to
    them win and ``references`` fill in. Protobuf imports are looked up from each file's
    directory and its parents, then ``proto_path``. Raises ``ConfigError`` for a file that
    cannot be read or decoded, ``SchemaParseError`` for an import found nowhere.
    """
    def load(path: Path) -> str:
        try:
            text = _read_path(Path(path), str(path))
        except SchemaParseError as exc:
            raise ConfigError(str(exc)) from exc
        if text is None:
            raise ConfigError(f"cannot read {path}: not a file")
        return text

    def auto_refs(path: Path, text: str, **given: Mapping[str, str]) -> dict[str, str]:
        if schema_type == "PROTOBUF":
            return load_proto_imports(Path(path), proto_path, **given)
        return references_for(schema_type, Path(path).name, text, _directory_reader(Path(path).parent),
                              [p.name for p in Path(path).parent.glob("*.avsc")])

    schema_type = normalise_schema_type(schema_type)
    refs = dict(references or {})
    new_text = load(new_path)
    auto = auto_refs(new_path, new_text, references=refs)
    history = History(list(range(1, len(previous_paths) + 1)), [])
    for path in previous_paths:
        body = load(path)
        prev_auto = auto_refs(path, body, fallback=refs)
        history.schemas.append((body, {**refs, **prev_auto}))  # files next to it win
    subject = Path(new_path).stem
    return _check_one(subject, schema_type, normalise_level(level), str(new_path),
                      (new_text, {**auto, **refs}), history, policy)


def _check_one(subject: str, schema_type: str, level: str, path: str | None,
               new: tuple[str, dict[str, str]], history: History, policy: str) -> SubjectReport:
    report = SubjectReport(subject, schema_type, level, path, "compatible", list(history.versions))
    if history.schema_type and history.schema_type != schema_type:
        report.status = "incompatible"
        report.result = CompatResult(False, [
            f"Incompatible because of different schema type: {history.schema_type} → {schema_type}"])
        return report
    try:
        report.result = check(schema_type, new, history.schemas, level, policy=policy,
                              versions=history.versions)
    except SchemaParseError as exc:
        report.status, report.error = "invalid", f"{path}: {exc}" if path else str(exc)
        return report
    if not history.schemas:
        report.status, report.note = "new", "no earlier version: a new subject passes"
    elif not report.result.compatible:
        report.status = "incompatible"
        if len(report.result.violations) == len(report.result.messages):
            report.locations = [locate(schema_type, new[0], v.new_path) for v in report.result.violations]
    return report


# --- where a finding is in the file ------------------------------------------------------

def locate(schema_type: str, text: str, pointer: str) -> tuple[int, int] | None:
    """(line, column), 1-based, of the place ``pointer`` names in a schema's text: a JSON
    pointer into an Avro or JSON Schema document (its nearest enclosing value when the
    exact one is not written out), or ``#/Message/tag`` in a .proto file."""
    pointer = pointer.lstrip("#")
    if schema_type.upper() == "PROTOBUF":
        offset = _proto_offset(text, pointer)
    else:
        offset = _json_offset(text, pointer)
    if offset is None:
        return None
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _json_offset(text: str, pointer: str) -> int | None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]] if pointer else []
    offsets: dict[tuple[str, ...], int] = {}
    _JsonScanner(text, offsets).value(())
    for end in range(len(parts), -1, -1):
        found = offsets.get(tuple(parts[:end]))
        if found is not None:
            return found
    return None


class _JsonScanner:
    """Records the offset of every value of a JSON document by its path (no values kept)."""

    def __init__(self, text: str, offsets: dict[tuple[str, ...], int]) -> None:
        self.text, self.i, self.offsets = text, 0, offsets

    def _skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t\r\n":
            self.i += 1

    def _string(self) -> str:
        start = self.i
        self.i += 1
        while self.i < len(self.text) and self.text[self.i] != '"':
            self.i += 2 if self.text[self.i] == "\\" else 1
        self.i += 1
        try:
            return str(json.loads(self.text[start:self.i]))
        except ValueError:
            return self.text[start + 1:self.i - 1]

    def value(self, path: tuple[str, ...]) -> None:
        self._skip()
        if self.i >= len(self.text):
            return
        self.offsets.setdefault(path, self.i)
        ch = self.text[self.i]
        if ch == "{":
            self.i += 1
            while True:
                self._skip()
                if self.i >= len(self.text) or self.text[self.i] == "}":
                    self.i += 1
                    return
                if self.text[self.i] == ",":
                    self.i += 1
                    continue
                if self.text[self.i] != '"':
                    return  # not JSON: stop here
                key = self._string()
                self._skip()
                if self.i < len(self.text) and self.text[self.i] == ":":
                    self.i += 1
                self.value(path + (key,))
        elif ch == "[":
            self.i += 1
            index = 0
            while True:
                self._skip()
                if self.i >= len(self.text) or self.text[self.i] == "]":
                    self.i += 1
                    return
                if self.text[self.i] == ",":
                    self.i += 1
                    continue
                self.value(path + (str(index),))
                index += 1
        elif ch == '"':
            self._string()
        else:
            while self.i < len(self.text) and self.text[self.i] not in ",]} \t\r\n":
                self.i += 1


def _proto_offset(text: str, pointer: str) -> int | None:
    parts = [p for p in pointer.split("/") if p]
    if not parts:
        return None
    start = 0
    found: int | None = None
    for name in parts[0].split("."):  # nested messages: Outer.Inner
        match = re.compile(rf"\b(message|enum)\s+{re.escape(name.rsplit('.', 1)[-1])}\b").search(text, start)
        if match is None:
            return found
        found = start = match.start()
    for part in parts[1:]:
        if part.lstrip("-").isdigit():
            match = re.compile(rf"=\s*{part}\s*[;\[]").search(text, start)
            if match is None:
                return found
            line_start = text.rfind("\n", 0, match.start()) + 1
            found = line_start + len(text[line_start:match.start()]) - len(text[line_start:match.start()].lstrip())
            start = match.end()
        else:
            match = re.compile(rf"\b{re.escape(part)}\b").search(text, start)
            if match is None:
                return found
            found = start = match.start()
    return found
