"""asyncio twins of the Kafka serializer and deserializer: :class:`AsyncSerializer`
and :class:`AsyncDeserializer`, named in pairs as httpx names ``Client``/``AsyncClient``.

An async twin owns a sync :class:`~serde.serializers._core.Serializer` (or ``Deserializer``) and
shares all of its logic and caches. A call first runs the sync object *inline*, on the
event loop, with registry I/O forbidden: every registry call goes through
``Registry.call``, which the twin's registry view refuses (:class:`_WouldBlock`) while a
call is inline, and the sync object's lock refuses to wait for a worker thread that holds
it. On the common path (the topic's encoder, the schema id's decoder, are cached) nothing
needs the registry, so the record is encoded or decoded right there, synchronously, as
fast as the sync object does it. On a cache miss (the first record of a topic, an unknown
schema id) the inline attempt stops before any side effect and the whole call runs again
in a worker thread (``asyncio.to_thread``), which registers or fetches the schema and
fills the caches; the next records are inline again.

Why a worker thread rather than confluent-kafka's ``AsyncSchemaRegistryClient``: the
cache-miss resolution (subject strategies, associations, Protobuf imports and
references, data-contract checks, ``use_latest_version``, header ids) is ~300 lines of
``_core.py`` written against the sync client; an ``await``-based path would need a
second copy of all of it (confluent-kafka generates its sync code from its async code to
the same end), and serde's embedded registry is a sync client. A miss happens once per
topic or schema id, so a thread hop there costs nothing measurable, and every registry
a sync serializer takes (URL, ``SchemaRegistryClient``, ``mock://``, embedded) works the
same asynchronously.
"""
from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import threading
from typing import Any, Callable, Iterable

from ._core import Decoded, Deserializer, Serializer, deserializer, serializer
from ..registry.client import Registry, open_registry

# True while a twin runs its sync object inline on the event loop. asyncio.to_thread
# copies the context into the worker, so it is set only around the inline call itself.
_inline: contextvars.ContextVar[bool] = contextvars.ContextVar("serde_async_inline", default=False)


class _WouldBlock(BaseException):
    """Registry I/O (or a lock a worker thread holds) asked for on the event loop.

    A BaseException, so that no ``except Exception`` on the way up turns it into a
    serde error: it only ever travels from the guard to the twin that set ``_inline``."""


class _LoopGuardedRegistry(Registry):
    """A view of a shared :class:`Registry` (same client, same caches) that refuses I/O
    while a twin runs inline. Cached answers (``by_id``, ``version``) still come back."""

    def __init__(self, inner: Registry) -> None:  # noqa: D107 - a view, not a copy
        self.__dict__ = inner.__dict__

    def call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if _inline.get():
            raise _WouldBlock(what)
        return super().call(what, fn, *args, **kwargs)


def _guarded(registry: Registry) -> Registry:
    return registry if isinstance(registry, _LoopGuardedRegistry) else _LoopGuardedRegistry(registry)


class _LoopGuardedLock:
    """The sync object's lock, which an inline call takes only if it is free: a worker
    thread may hold it across registry I/O, and the loop must not wait for that."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        if _inline.get():
            if not self._lock.acquire(blocking=False):
                raise _WouldBlock("the serializer's lock")
        else:
            self._lock.acquire()

    def __exit__(self, *exc: Any) -> None:
        self._lock.release()


class _Serializer(Serializer):
    def __init__(self, format: Any, schema: Any = None, registry: Any = None, **options: Any) -> None:
        super().__init__(format, schema, _guarded(open_registry(registry)), **options)
        self._lock = _LoopGuardedLock()  # type: ignore[assignment]


class _Deserializer(Deserializer):
    def __init__(self, format: Any, registry: Any = None, **options: Any) -> None:
        super().__init__(format, registry, **options)
        self._lock = _LoopGuardedLock()  # type: ignore[assignment]

    @property
    def _registry(self) -> Registry:  # opened on first use, as the sync one, but guarded
        if self._registry_obj is None:
            self._registry_obj = _guarded(open_registry(self._registry_arg))
        return self._registry_obj


class _AsyncTwin:
    """What both twins share: the sync object, and running one of its methods inline or,
    when that would block, in a worker thread."""

    _sync: Any

    def _build(self, factory: Callable[[], Any]) -> None:
        # Construction fetches from the registry only for references= / reader_references=.
        # Without a running loop that may block; under one it is left to the first call.
        self._factory = factory
        self._factory_lock = threading.Lock()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._sync = factory()
            return
        token = _inline.set(True)
        try:
            self._sync = factory()
        except _WouldBlock:
            self._sync = None
        finally:
            _inline.reset(token)

    def _built(self) -> Any:
        """The sync object, built now (in a worker thread) if construction was deferred."""
        if self._sync is None:
            with self._factory_lock:
                if self._sync is None:
                    self._sync = self._factory()
        return self._sync

    async def _run(self, method: str, *args: Any) -> Any:
        sync = self._sync
        if sync is not None:
            token = _inline.set(True)
            try:
                return getattr(sync, method)(*args)
            except _WouldBlock:
                pass
            finally:
                _inline.reset(token)
        return await asyncio.to_thread(self._in_thread, method, args)

    def _in_thread(self, method: str, args: tuple[Any, ...]) -> Any:
        return getattr(self._built(), method)(*args)


class AsyncSerializer(_AsyncTwin):
    """The asyncio twin of :class:`Serializer`: ``await ser(obj, ctx)`` returns bytes.
    Build it with :func:`serde.async_serializer` (same arguments as
    :func:`serde.serializer`). Schema registration and lookups run in a worker thread,
    once per topic; records are encoded on the loop, by the same cached encoder as the
    sync serializer's, to the same bytes. Usable as ``key.serializer`` /
    ``value.serializer`` of confluent-kafka's ``AsyncSerializingProducer``."""

    def __init__(self, format: Any, schema: Any = None, registry: Any = None, **options: Any) -> None:
        self._build(functools.partial(_Serializer, format, schema, registry, **options))

    @property
    def schema(self) -> Any:
        """The parsed schema given (``None`` until known, as for :class:`Serializer`)."""
        return self._sync.schema if self._sync is not None else None

    async def __call__(self, obj: Any, ctx: Any = None) -> bytes | None:
        sync = self._sync  # _run, inlined: this is the per-record path
        if sync is not None:
            token = _inline.set(True)
            try:
                return sync(obj, ctx)  # type: ignore[no-any-return]
            except _WouldBlock:
                pass
            finally:
                _inline.reset(token)
        return await asyncio.to_thread(self._in_thread, "__call__", (obj, ctx))  # type: ignore[no-any-return]

    async def serialize_many(self, records: Iterable[Any], ctx: Any) -> list[bytes | None]:
        """As :meth:`Serializer.serialize_many`."""
        return await self._run("serialize_many", list(records), ctx)  # type: ignore[no-any-return]

    async def prepare(self, topic: str, is_key: bool = False) -> int:
        """Register (or look up) the schema for ``topic`` now; returns the schema id."""
        return await self._run("prepare", topic, is_key)  # type: ignore[no-any-return]

    async def subject(self, topic: str, is_key: bool = False) -> str:
        """The subject this serializer uses for ``topic`` (the associated strategy asks the registry)."""
        return await self._run("subject", topic, is_key)  # type: ignore[no-any-return]


class AsyncDeserializer(_AsyncTwin):
    """The asyncio twin of :class:`Deserializer`: ``await de(data, ctx)``. Build it with
    :func:`serde.async_deserializer` (same arguments as :func:`serde.deserializer`).
    Writer schemas are fetched in a worker thread, once per schema id; records are
    decoded on the loop by the sync deserializer's cached decoders. Usable as
    ``key.deserializer`` / ``value.deserializer`` of confluent-kafka's
    ``AsyncDeserializingConsumer``."""

    def __init__(self, format: Any, registry: Any = None, **options: Any) -> None:
        self._build(functools.partial(_Deserializer, format, registry, **options))

    async def __call__(self, data: bytes | None, ctx: Any = None) -> Any:
        sync = self._sync  # _run, inlined: this is the per-record path
        if sync is not None:
            token = _inline.set(True)
            try:
                return sync(data, ctx)
            except _WouldBlock:
                pass
            finally:
                _inline.reset(token)
        return await asyncio.to_thread(self._in_thread, "__call__", (data, ctx))

    async def decode_with_schema(self, data: bytes, ctx: Any = None) -> Decoded:
        """As :meth:`Deserializer.decode_with_schema`."""
        return await self._run("decode_with_schema", data, ctx)  # type: ignore[no-any-return]

    async def deserialize_many(self, datas: Iterable[bytes | None], ctx: Any = None) -> list[Any]:
        """As :meth:`Deserializer.deserialize_many`."""
        return await self._run("deserialize_many", list(datas), ctx)  # type: ignore[no-any-return]


def async_serializer(format: Any, schema: Any = None, registry: Any = None, **options: Any) -> AsyncSerializer:
    """An :class:`AsyncSerializer`: the arguments and options of :func:`serde.serializer`
    (``model=`` included); ``await ser(obj, ctx)`` returns the same bytes."""
    return AsyncSerializer(format, schema, registry, **options)


def async_deserializer(format: Any, registry: Any = None, **options: Any) -> AsyncDeserializer:
    """An :class:`AsyncDeserializer`: the arguments and options of
    :func:`serde.deserializer` (``model=`` included); ``await de(data, ctx)``."""
    return AsyncDeserializer(format, registry, **options)


# help() and IDEs show the sync factories' options, which are the same
async_serializer.__signature__ = inspect.signature(serializer).replace(  # type: ignore[attr-defined]
    return_annotation="AsyncSerializer")
async_deserializer.__signature__ = inspect.signature(deserializer).replace(  # type: ignore[attr-defined]
    return_annotation="AsyncDeserializer")
