"""A bound on what Avro bytes may claim: item counts checked before the codec decodes.

An Avro array is written as blocks of ``count, items``. Where the items themselves take
no bytes (``null``, a fixed of size 0, a record of only such fields), nothing in the
data limits ``count``: an 11-byte value can claim 2^31 items, and fastavro and cavro
both build that list in full (about 6 GB) before anything fails. Every other array or
map item takes at least one byte, so a false count runs out of data after at most as
many items as there are bytes left, and the codecs fail quickly on their own.

A recursive schema (a record that contains itself: a linked list, a tree) has the other
unbounded dimension: depth. fastavro and cavro recurse in C once per level, and a value
nested a hundred thousand levels deep (200 bytes a thousand levels) crashes the process.
So recursive schemas get the checker too, which also refuses a value nested more than
``MAX_VALUE_DEPTH`` containers (records, arrays, maps) deep.

So the schema is looked at once: only schemas with an array of zero-byte items, or a
recursive type, get a checker, which walks the bytes with a small pure-Python skipper and refuses a block (or
a whole value) claiming more than ``max_items`` such items, naming the field. Schemas
without such arrays pay nothing. The same checker bounds container-file blocks
(``serde._ocf``) before fastavro decodes them.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable

from .._errors import ConfigError, DecodeError, SchemaParseError

MAX_ITEMS = 1_000_000
"""Default most zero-byte array items one block, or one value in all, may claim; an item
that decodes to a record counts once more for each value it holds (a record of twenty
null fields is 21), so the limit bounds the Python objects built: about 100 MB."""

MAX_VALUE_DEPTH = 200
"""Most containers (records, arrays, maps) a value of a recursive type may nest: serde's
own Python walks of values stay well inside Python's recursion limit, and JSON output
(orjson stops at 254 levels) can hold what Avro held."""

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_NAMED = ("record", "error", "enum", "fixed")

Skip = Callable[[bytes, int, list], int]  # (data, position, [items claimed, negated count seen]) -> new position


class _Node:
    """One schema node with named types shared, so recursive schemas form a cycle."""

    __slots__ = ("kind", "size", "children", "names", "empty", "risky", "cyclic", "weight")

    def __init__(self, kind: str, size: int = 0) -> None:
        self.kind = kind
        self.size = size  # fixed: its size; enum: its symbol count
        self.children: list[_Node] = []  # record fields, array items, map values, union branches
        self.names: list[str] = []  # record field names
        self.empty = kind == "null" or (kind == "fixed" and size == 0)  # always encodes to no bytes
        self.risky = False  # holds an array of empty items, or a cycle, somewhere
        self.cyclic = False  # a record used inside its own definition
        self.weight = 1  # an empty value: how many Python objects it decodes to


def _graph(schema: Any) -> _Node:
    named: dict[str, _Node] = {}
    building: set[str] = set()  # records whose fields are being built: a use of one is a cycle

    def build(node: Any, namespace: str | None) -> _Node:
        if isinstance(node, str):
            if node in _PRIMITIVES:
                return _Node(node)
            for name in (f"{namespace}.{node}" if namespace and "." not in node else node, node):
                if name in named:
                    if name in building:
                        named[name].cyclic = True
                    return named[name]
            raise SchemaParseError(f"unknown Avro type name {node!r}")
        if isinstance(node, list):
            union = _Node("union")
            union.children = [build(branch, namespace) for branch in node]
            return union
        if not isinstance(node, dict):
            raise SchemaParseError(f"not an Avro schema node: {node!r}")
        kind = node.get("type")
        if isinstance(kind, (dict, list)):
            return build(kind, namespace)
        if kind in _NAMED:
            name = node.get("name", "")
            space = node.get("namespace", namespace)
            full = name if "." in name or not space else f"{space}.{name}"
            inner = full.rpartition(".")[0] or None
            if kind == "fixed":
                out = _Node("fixed", int(node.get("size", 0)))
            elif kind == "enum":
                out = _Node("enum", len(node.get("symbols", ())))
            else:
                out = _Node("record")
            named[full] = out  # before the fields: they may refer to it
            if out.kind == "record":
                building.add(full)
                for field in node.get("fields", ()):
                    out.names.append(field["name"])
                    out.children.append(build(field["type"], inner))
                building.discard(full)
            return out
        if kind in ("array", "map"):
            out = _Node(kind)
            out.children = [build(node["items" if kind == "array" else "values"], namespace)]
            return out
        if isinstance(kind, str):
            return build(kind, namespace)
        raise SchemaParseError(f"not an Avro schema node: {node!r}")

    return build(schema, None)


def _nodes(root: _Node) -> list[_Node]:
    seen: dict[int, _Node] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen[id(node)] = node
            stack.extend(node.children)
    return list(seen.values())


def _analyse(root: _Node) -> list[_Node]:
    nodes = _nodes(root)
    # empty records: the least fixed point (a record that contains itself is never empty)
    changed = True
    while changed:
        changed = False
        for node in nodes:
            if node.kind == "record" and not node.empty and all(c.empty for c in node.children):
                node.empty = changed = True
    # an empty record decodes to a dict holding its fields' values (no cycles: a record
    # that contains itself is never empty), so its weight is one for itself plus theirs
    pending = [node for node in nodes if node.empty and node.kind == "record"]
    while pending:
        waiting = []
        for node in pending:
            if any(c.kind == "record" and c.weight == 1 and c is not node and c in pending for c in node.children):
                waiting.append(node)
            else:
                node.weight = 1 + sum(c.weight for c in node.children)
        if len(waiting) == len(pending):  # pragma: no cover - only acyclic records get here
            break
        pending = waiting
    for node in nodes:
        node.risky = (node.kind == "array" and node.children[0].empty) or node.cyclic
    changed = True
    while changed:
        changed = False
        for node in nodes:
            if not node.risky and any(c.risky for c in node.children):
                node.risky = changed = True
    return nodes


def encodes_empty(schema: Any) -> bool:
    """Whether every value of ``schema`` encodes to zero bytes (so a container block's
    record count is the only thing that says how many there are)."""
    root = _graph(schema)
    _analyse(root)
    return root.empty


class _Limit(Exception):
    """Too many items claimed; ``parts`` collects the field path while unwinding."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.parts: list[str | int] = []


class _Bad(Exception):
    """Bytes that cannot be walked: the reason."""


def _long(data: bytes, pos: int) -> tuple[int, int]:
    b = data[pos]
    pos += 1
    if b < 0x80:  # one byte: most lengths and counts
        return (b >> 1) ^ -(b & 1), pos
    n = b & 0x7F
    shift = 7
    while b & 0x80:
        if shift > 63:
            raise _Bad("a varint longer than 10 bytes")
        b = data[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
    return (n >> 1) ^ -(n & 1), pos


def _skip_varint(data: bytes, pos: int, claimed: list) -> int:
    # its value is not needed: past the bytes with the high bit set (the codec judges overlong ones)
    while data[pos] & 0x80:
        pos += 1
    return pos + 1


def _compile(root: _Node, max_items: int, max_depth: int | None = None) -> Skip:
    """The skipper of ``root``. With ``max_depth`` (recursive schemas) every record, array
    and map that can hold a cycle counts its nesting in ``claimed[2]``."""
    compiled: dict[int, Skip] = {}
    too_deep = f"value nested more than {max_depth} levels deep (records, arrays and maps of a recursive type)"

    def skipper(node: _Node) -> Skip:
        key = id(node)
        if key in compiled:
            return compiled[key]
        if node.kind == "record" and not node.empty:
            # a placeholder first: a recursive record's fields call back into it
            cell: list[Skip] = []
            compiled[key] = lambda data, pos, claimed: cell[0](data, pos, claimed)
            made = make(node)
            cell.append(made)
            compiled[key] = made
            return made
        made = make(node)
        compiled[key] = made
        return made

    def make(node: _Node) -> Skip:
        kind = node.kind
        if node.empty:
            return lambda data, pos, claimed: pos
        if kind == "boolean":
            return lambda data, pos, claimed: pos + 1
        if kind in ("int", "long", "enum"):
            return _skip_varint
        if kind == "float":
            return lambda data, pos, claimed: pos + 4
        if kind == "double":
            return lambda data, pos, claimed: pos + 8
        if kind == "fixed":
            size = node.size
            return lambda data, pos, claimed: pos + size
        if kind in ("bytes", "string"):
            def skip_bytes(data: bytes, pos: int, claimed: list) -> int:
                length, pos = _long(data, pos)
                if length < 0:
                    raise _Bad(f"a negative length ({length})")
                return pos + length

            return skip_bytes
        if kind == "union":
            branches = [skipper(child) for child in node.children]

            def skip_union(data: bytes, pos: int, claimed: list) -> int:
                index, pos = _long(data, pos)
                if not 0 <= index < len(branches):
                    raise _Bad(f"union branch {index} of {len(branches)}")
                return branches[index](data, pos, claimed)

            return skip_union
        if kind == "record":
            fields = [skipper(child) for child in node.children]
            if not node.risky:
                def skip_record(data: bytes, pos: int, claimed: list) -> int:
                    for field in fields:
                        pos = field(data, pos, claimed)
                    return pos

                return skip_record
            names = node.names
            deep = max_depth is not None

            def skip_risky_record(data: bytes, pos: int, claimed: list) -> int:
                i = 0
                if deep:
                    claimed[2] += 1
                    if claimed[2] > max_depth:  # type: ignore[operator]
                        raise _Limit(too_deep)
                try:
                    for i, field in enumerate(fields):
                        pos = field(data, pos, claimed)
                except _Limit as exc:
                    exc.parts.append(names[i])
                    raise
                if deep:
                    claimed[2] -= 1
                return pos

            return skip_risky_record
        if kind == "array" and node.risky and node.children[0].empty:
            weight = node.children[0].weight
            each = "" if weight == 1 else f" of {weight} values each"

            def skip_empty_items(data: bytes, pos: int, claimed: list) -> int:
                while True:
                    count, pos = _long(data, pos)
                    if count == 0:
                        return pos
                    if count < 0:
                        count = -count
                        _, pos = _long(data, pos)  # the block's byte size
                        claimed[1] = True
                    if count * weight > max_items:
                        raise _Limit(f"array block claims {count} items{each}, more than the limit of {max_items} (max_items)")
                    claimed[0] += count * weight
                    if claimed[0] > max_items:
                        raise _Limit(f"arrays in one value claim {claimed[0]} items, counting what each holds, "
                                     f"more than the limit of {max_items} (max_items)")

            return skip_empty_items
        if kind in ("array", "map"):
            item = skipper(node.children[0])
            is_map = kind == "map"
            risky = node.risky

            deep = max_depth is not None and risky

            def skip_items(data: bytes, pos: int, claimed: list) -> int:
                index = 0
                if deep:
                    claimed[2] += 1
                    if claimed[2] > max_depth:  # type: ignore[operator]
                        raise _Limit(too_deep)
                while True:
                    count, pos = _long(data, pos)
                    if count == 0:
                        if deep:
                            claimed[2] -= 1
                        return pos
                    if count < 0:
                        count = -count
                        _, pos = _long(data, pos)
                        claimed[1] = True
                    # every item here takes a byte or more: a count beyond the bytes left is false
                    if count > len(data) - pos:
                        raise _Bad(f"a block of {count} items in {max(len(data) - pos, 0)} bytes")
                    for _ in range(count):
                        start = pos
                        try:
                            if is_map:
                                length, pos = _long(data, pos)
                                if length < 0:
                                    raise _Bad(f"a negative length ({length})")
                                pos += length
                            pos = item(data, pos, claimed)
                        except _Limit as exc:
                            if risky:
                                exc.parts.append(_map_key(data, start) if is_map else index)
                            raise
                        index += 1

            return skip_items
        raise SchemaParseError(f"unsupported Avro type {kind!r}")  # pragma: no cover - _graph makes none

    return skipper(root)


def _map_key(data: bytes, pos: int) -> str:
    length, pos = _long(data, pos)
    return data[pos:pos + length].decode("utf-8", "replace")


def _path(parts: list[str | int]) -> str:
    out = "$"
    for part in reversed(parts):
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    # two hundred levels of ".next" say nothing more than its two ends do
    return out if len(out) <= 200 else f"{out[:96]}...{out[-96:]}"


class Checker:
    """Walks Avro datums of one schema and refuses item counts above ``max_items``."""

    def __init__(self, skip: Skip, max_items: int, label: str) -> None:
        self._skip = skip
        self.max_items = max_items
        self._label = label

    def walk(self, data: bytes, pos: int = 0) -> int:
        """Check the datum at ``pos`` and return where it ends; DecodeError if it claims
        too many items or cannot be walked."""
        return self.scan(data, pos)[0]

    def scan(self, data: bytes, pos: int = 0) -> tuple[int, bool]:
        """``walk``, and whether the datum has a block with a negated count (followed by
        its byte size): valid Avro that cavro misreads, so it goes to fastavro."""
        state = [0, False, 0]  # items claimed so far, a negated count seen, nesting depth
        try:
            end = self._skip(data, pos, state)
        except _Limit as exc:
            raise DecodeError(exc.reason, path=_path(exc.parts)) from None
        except IndexError:
            raise DecodeError(f"invalid Avro data for schema {self._label}: truncated data") from None
        except _Bad as exc:
            raise DecodeError(f"invalid Avro data for schema {self._label}: {exc}") from None
        except RecursionError:
            raise DecodeError(f"invalid Avro data for schema {self._label}: nested too deeply to check") from None
        if end > len(data):
            raise DecodeError(f"invalid Avro data for schema {self._label}: truncated data")
        return end, state[1]

    def walk_block(self, count: int, data: bytes) -> int | None:
        """Check the ``count`` datums of a container block; on failure the error's
        ``index`` attribute says which datum (0-based)."""
        pos = 0
        for index in range(count):
            try:
                pos = self.walk(data, pos)
            except DecodeError as exc:
                exc.index = index  # type: ignore[attr-defined]
                raise
        return pos


def checker(schema: Any, max_items: int | None = None, label: str = "value") -> Checker | None:
    """A Checker for the Avro schema JSON ``schema``, or None when no array in it has items
    that take zero bytes and no type in it is recursive (then every count is bounded by
    the data, every depth by the schema, and nothing is walked)."""
    limit = MAX_ITEMS if max_items is None else int(max_items)
    if limit < 0:
        raise ConfigError(f"max_items must be 0 or more, not {limit}")
    root = _graph(schema)
    nodes = _analyse(root)
    if not root.risky:
        return None
    recursive = any(node.cyclic for node in nodes)
    return Checker(_compile(root, limit, MAX_VALUE_DEPTH if recursive else None), limit, label)


_CHECKERS: "weakref.WeakKeyDictionary[Any, dict[tuple[int | None, str], Checker | None]]" = weakref.WeakKeyDictionary()


def _checker_of(schema: Any, max_items: int | None, label: str) -> Checker | None:
    # a parsed schema object (``.expanded`` is its JSON) keeps its checkers: one-shot
    # ``decode(schema, data)`` calls build a decoder each time
    expanded = getattr(schema, "expanded", None)
    if expanded is None:
        return checker(schema, max_items, label)
    cache = _CHECKERS.setdefault(schema, {})
    key = (max_items, label)
    if key not in cache:
        cache[key] = checker(expanded, max_items, label)
    return cache[key]  # type: ignore[no-any-return]


def bounded(schema: Any, decode: Callable[[bytes], Any], max_items: int | None = None, label: str = "value",
            reference: Callable[[], Callable[[bytes], Any]] | None = None) -> Callable[[bytes], Any]:
    """``decode`` itself, or, for schemas with arrays of zero-byte items, ``decode`` after a
    check that no block claims more than ``max_items`` items. ``schema`` is Avro schema
    JSON, or a parsed schema whose ``expanded`` is (its checker is then kept on it).

    ``reference`` makes the decoder to use instead for a datum with negated block counts:
    cavro reads those as a count near 2^64, and for zero-byte items it then fills memory
    until the process is killed; fastavro reads them as the specification says.
    """
    check = _checker_of(schema, max_items, label)
    if check is None:
        return decode
    scan = check.scan
    fallback: list[Callable[[bytes], Any]] = []

    def decode_bounded(data: bytes) -> Any:
        if scan(data)[1] and reference is not None:
            if not fallback:
                fallback.append(reference())
            return fallback[0](data)
        return decode(data)

    return decode_bounded
