"""Cluster operations for the console over confluent_kafka's AdminClient: brokers and
their configs, topics (describe, create, delete, add partitions, alter configs), consumer
groups (describe, committed and end offsets, lag, offset resets) and ACLs.

Every call waits at most ``TIMEOUT`` seconds and turns confluent_kafka's errors into
:class:`serde.KafkaError` with the broker's reason; :class:`NoAuthorizer` says the
cluster has no authorizer (ACLs cannot be listed or changed there).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from .._errors import KafkaError
from ._kafka import TIMEOUT, _text

__all__ = ["Admin", "NoAuthorizer", "GroupView", "ResetPlan"]

# config sources that mean "set on this resource" (anything else is inherited: a default)
_SET_HERE = {"DYNAMIC_TOPIC_CONFIG", "DYNAMIC_BROKER_CONFIG", "GROUP_CONFIG"}


NO_AUTHORIZER = ("this cluster has no authorizer (authorizer.class.name is not set on its brokers): "
                 "there are no ACLs to list or change")


class NoAuthorizer(KafkaError):
    """The cluster runs without an authorizer (``authorizer.class.name`` unset)."""


def _code(exc: BaseException) -> int | None:
    arg = exc.args[0] if exc.args else None
    code = getattr(arg, "code", None)
    return code() if callable(code) else None


def _wait(future: Any, what: str) -> Any:
    from confluent_kafka import KafkaError as CK

    try:
        return future.result(timeout=TIMEOUT * 2)
    except Exception as exc:  # noqa: BLE001 - KafkaException, TimeoutError
        if _code(exc) == CK.SECURITY_DISABLED:
            raise NoAuthorizer(NO_AUTHORIZER) from exc
        raise KafkaError(f"{what}: {_text(exc) or type(exc).__name__}") from exc


@dataclass
class ConfigRow:
    name: str
    value: str | None
    default: bool  # inherited (broker or Kafka default), not set on the resource
    source: str
    sensitive: bool
    read_only: bool


@dataclass
class PartitionRow:
    partition: int
    leader: int | None
    replicas: list[int]
    isr: list[int]
    low: int = 0
    high: int = 0

    @property
    def records(self) -> int:
        return max(0, self.high - self.low)

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)


@dataclass
class GroupPartition:
    topic: str
    partition: int
    committed: int | None  # None: nothing committed
    end: int
    member: str | None = None  # the client id and host it is assigned to

    @property
    def lag(self) -> int | None:
        return None if self.committed is None else max(0, self.end - self.committed)


@dataclass
class GroupView:
    group_id: str
    state: str
    type: str
    assignor: str
    coordinator: str
    members: list[dict[str, Any]]
    partitions: list[GroupPartition]

    @property
    def empty(self) -> bool:
        return self.state in ("EMPTY", "DEAD") and not self.members

    @property
    def lag(self) -> int:
        return sum(p.lag or 0 for p in self.partitions)


@dataclass
class ResetPlan:
    group_id: str
    to: str  # earliest, latest, timestamp, offset
    value: str
    rows: list[dict[str, Any]] = field(default_factory=list)  # topic, partition, current, new, low, high


class Admin:
    """One cluster's admin operations (the AdminClient of its :class:`Browser`)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    # -- brokers --------------------------------------------------------------------------
    def cluster(self) -> dict[str, Any]:
        found = _wait(self.client.describe_cluster(request_timeout=TIMEOUT), "cannot describe the cluster")
        controller = found.controller.id if found.controller is not None else None
        brokers = [{"id": n.id, "host": n.host, "port": n.port, "rack": n.rack, "controller": n.id == controller}
                   for n in sorted(found.nodes, key=lambda n: n.id)]
        return {"cluster_id": found.cluster_id, "controller": controller, "brokers": brokers}

    def configs(self, kind: str, name: str) -> list[ConfigRow]:
        """The configs of a broker (``kind="broker"``, name its id) or a topic."""
        from confluent_kafka.admin import ConfigResource, ConfigSource, ResourceType

        resource = ConfigResource(ResourceType.BROKER if kind == "broker" else ResourceType.TOPIC, name)
        futures = self.client.describe_configs([resource], request_timeout=TIMEOUT)
        entries = _wait(next(iter(futures.values())), f"cannot read the configs of {kind} {name!r}")
        rows = []
        for entry in sorted(entries.values(), key=lambda e: e.name):
            try:  # confluent_kafka gives the source as an int
                source = ConfigSource(entry.source).name
            except ValueError:
                source = str(entry.source)
            rows.append(ConfigRow(entry.name, None if entry.is_sensitive else entry.value,
                                  source not in _SET_HERE, source, bool(entry.is_sensitive), bool(entry.is_read_only)))
        return rows

    # -- topics ---------------------------------------------------------------------------
    def describe_topic(self, topic: str) -> tuple[bool, list[PartitionRow]]:
        """(internal, partitions with leader, replicas, ISR and watermarks)."""
        from confluent_kafka import KafkaError as CK, TopicCollection, TopicPartition
        from confluent_kafka.admin import OffsetSpec

        futures = self.client.describe_topics(TopicCollection([topic]), request_timeout=TIMEOUT)
        try:
            found = futures[topic].result(timeout=TIMEOUT * 2)
        except Exception as exc:  # noqa: BLE001
            if _code(exc) == CK.UNKNOWN_TOPIC_OR_PART:
                raise KafkaError(f"topic {topic!r} does not exist") from exc
            raise KafkaError(f"cannot describe topic {topic!r}: {_text(exc)}") from exc
        rows = {p.id: PartitionRow(p.id, p.leader.id if p.leader is not None else None,
                                   [n.id for n in p.replicas], [n.id for n in p.isr]) for p in found.partitions}
        if rows:
            parts = [TopicPartition(topic, p) for p in rows]
            for spec, attr in ((OffsetSpec.earliest(), "low"), (OffsetSpec.latest(), "high")):
                for tp, offset in self._offsets(parts, spec, f"cannot read the offsets of {topic!r}").items():
                    setattr(rows[tp[1]], attr, offset)
        return bool(found.is_internal), [rows[p] for p in sorted(rows)]

    def _offsets(self, parts: list[Any], spec: Any, what: str) -> dict[tuple[str, int], int]:
        """ListOffsets of ``parts``, tried again (for at most TIMEOUT) while a leader is
        moving or not known yet: a topic just created or grown answers "not leader" a moment."""
        import time

        from confluent_kafka import KafkaError as CK

        retriable = {CK.NOT_LEADER_FOR_PARTITION, CK.LEADER_NOT_AVAILABLE, CK.UNKNOWN_TOPIC_OR_PART}
        deadline = time.monotonic() + TIMEOUT
        while True:
            sent = self.client.list_offsets({tp: spec for tp in parts}, request_timeout=TIMEOUT)
            try:
                return {(tp.topic, tp.partition): f.result(timeout=TIMEOUT * 2).offset for tp, f in sent.items()}
            except Exception as exc:  # noqa: BLE001
                if _code(exc) not in retriable or time.monotonic() > deadline:
                    raise KafkaError(f"{what}: {_text(exc) or type(exc).__name__}") from exc
                time.sleep(0.1)

    def create_topic(self, topic: str, partitions: int, replication: int, config: dict[str, str]) -> None:
        from confluent_kafka.admin import NewTopic

        futures = self.client.create_topics([NewTopic(topic, partitions, replication, config=config)],
                                            request_timeout=TIMEOUT, operation_timeout=TIMEOUT)
        _wait(futures[topic], f"cannot create topic {topic!r}")
        self._settle(topic, partitions)

    def _settle(self, topic: str, partitions: int) -> None:
        """Wait (at most TIMEOUT) until the topic's metadata shows ``partitions`` partitions
        with leaders: the page shown next describes it and reads its offsets."""
        import time

        from confluent_kafka import TopicCollection

        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                found = self.client.describe_topics(TopicCollection([topic]), request_timeout=TIMEOUT)[topic].result()
                if len(found.partitions) >= partitions and all(p.leader is not None for p in found.partitions):
                    return
            except Exception:  # noqa: BLE001 - not known yet
                pass
            time.sleep(0.1)

    def delete_topic(self, topic: str) -> None:
        futures = self.client.delete_topics([topic], request_timeout=TIMEOUT, operation_timeout=TIMEOUT)
        _wait(futures[topic], f"cannot delete topic {topic!r}")

    def add_partitions(self, topic: str, total: int) -> None:
        from confluent_kafka.admin import NewPartitions

        futures = self.client.create_partitions([NewPartitions(topic, total)], request_timeout=TIMEOUT,
                                                operation_timeout=TIMEOUT)
        _wait(futures[topic], f"cannot add partitions to {topic!r}")
        self._settle(topic, total)

    def alter_topic_config(self, topic: str, name: str, value: str | None) -> None:
        """Set ``name`` to ``value`` on the topic; None: back to its default."""
        from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

        op = AlterConfigOpType.DELETE if value is None else AlterConfigOpType.SET
        resource = ConfigResource(ResourceType.TOPIC, topic,
                                  incremental_configs=[ConfigEntry(name, value, incremental_operation=op)])
        futures = self.client.incremental_alter_configs([resource], request_timeout=TIMEOUT)
        _wait(next(iter(futures.values())), f"cannot set {name} on {topic!r}")

    # -- consumer groups ------------------------------------------------------------------
    def groups(self) -> list[dict[str, Any]]:
        found = _wait(self.client.list_consumer_groups(request_timeout=TIMEOUT), "cannot list consumer groups")
        out = [{"group_id": g.group_id, "state": getattr(g.state, "name", str(g.state)),
                "type": getattr(getattr(g, "type", None), "name", ""), "simple": bool(g.is_simple_consumer_group)}
               for g in found.valid]
        return sorted(out, key=lambda g: g["group_id"])

    def group(self, group_id: str) -> GroupView:
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
        from confluent_kafka.admin import OffsetSpec

        described = _wait(self.client.describe_consumer_groups([group_id], request_timeout=TIMEOUT)[group_id],
                          f"cannot describe group {group_id!r}")
        state = getattr(described.state, "name", str(described.state))
        if state == "DEAD":
            raise KafkaError(f"consumer group {group_id!r} does not exist")
        members, owner = [], {}
        for m in described.members:
            parts = sorted((tp.topic, tp.partition) for tp in (m.assignment.topic_partitions if m.assignment else []))
            members.append({"member_id": m.member_id, "client_id": m.client_id, "host": m.host,
                            "instance_id": m.group_instance_id, "assignment": parts})
            for key in parts:
                owner[key] = f"{m.client_id} ({m.host})"
        offsets = _wait(self.client.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group_id)],
                                                                request_timeout=TIMEOUT)[group_id],
                        f"cannot read the committed offsets of {group_id!r}")
        committed = {(tp.topic, tp.partition): tp.offset for tp in offsets.topic_partitions}
        keys = sorted(set(committed) | set(owner))
        ends: dict[tuple[str, int], int] = {}
        if keys:
            ends = self._offsets([TopicPartition(t, p) for t, p in keys], OffsetSpec.latest(), "cannot read end offsets")
        rows = [GroupPartition(t, p, committed[(t, p)] if committed.get((t, p), -1) >= 0 else None, ends.get((t, p), 0),
                               owner.get((t, p))) for t, p in keys]
        coordinator = described.coordinator
        return GroupView(group_id, state, getattr(getattr(described, "type", None), "name", ""),
                         described.partition_assignor or "",
                         f"{coordinator.id} ({coordinator.host}:{coordinator.port})" if coordinator else "",
                         members, rows)

    def plan_reset(self, group: GroupView, topics: Iterable[str], to: str, value: str) -> ResetPlan:
        """The offsets a reset would commit (nothing is changed). ``to``: earliest, latest,
        timestamp (epoch ms: the first offset at or after it, else the end) or offset (kept
        within the partition's low and high watermarks)."""
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import OffsetSpec

        wanted = set(topics)
        rows = [p for p in group.partitions if p.topic in wanted]
        if not rows:
            raise KafkaError(f"group {group.group_id!r} has no committed offsets on {', '.join(sorted(wanted)) or 'no topic'}")
        parts = [TopicPartition(p.topic, p.partition) for p in rows]

        def offsets(spec: Any) -> dict[tuple[str, int], int]:
            return self._offsets(parts, spec, "cannot read offsets")

        low, high = offsets(OffsetSpec.earliest()), offsets(OffsetSpec.latest())
        if to == "timestamp":
            by_time = offsets(OffsetSpec.for_timestamp(int(value)))
        plan = ResetPlan(group.group_id, to, value)
        for p in rows:
            key = (p.topic, p.partition)
            if to == "earliest":
                new = low[key]
            elif to == "latest":
                new = high[key]
            elif to == "timestamp":
                new = by_time[key] if by_time[key] >= 0 else high[key]
            else:
                new = min(max(int(value), low[key]), high[key])
            plan.rows.append({"topic": p.topic, "partition": p.partition, "current": p.committed, "new": new,
                              "low": low[key], "high": high[key], "lag": high[key] - new})
        return plan

    def apply_reset(self, plan: ResetPlan) -> None:
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

        request = ConsumerGroupTopicPartitions(plan.group_id, [TopicPartition(r["topic"], r["partition"], r["new"])
                                                               for r in plan.rows])
        futures = self.client.alter_consumer_group_offsets([request], request_timeout=TIMEOUT)
        result = _wait(futures[plan.group_id], f"cannot reset the offsets of {plan.group_id!r}")
        failed = [tp for tp in result.topic_partitions if tp.error is not None]
        if failed:
            raise KafkaError(f"cannot reset {failed[0].topic}[{failed[0].partition}]: {failed[0].error.str()}")

    # -- ACLs -----------------------------------------------------------------------------
    def acls(self) -> list[dict[str, str]]:
        from confluent_kafka.admin import AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType, ResourceType

        if self.authorizer() == "":  # None: we may not know; DescribeAcls may still answer
            raise NoAuthorizer(NO_AUTHORIZER)
        everything = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None,
                                      AclOperation.ANY, AclPermissionType.ANY)
        found = _wait(self.client.describe_acls(everything, request_timeout=TIMEOUT), "cannot list ACLs")
        rows = [_acl_row(b) for b in found]
        return sorted(rows, key=lambda r: tuple(r.values()))

    def authorizer(self) -> str | None:
        """The brokers' ``authorizer.class.name`` ("" when unset; None when this principal
        may not read broker configs). A cluster without one answers DescribeAcls with no
        ACLs rather than an error, so the console asks this first."""
        brokers = self.cluster()["brokers"]
        if not brokers:
            return None
        try:
            configs = {c.name: c.value for c in self.configs("broker", str(brokers[0]["id"]))}
        except KafkaError:
            return None
        return configs.get("authorizer.class.name") or ""

    def create_acl(self, acl: dict[str, str]) -> None:
        from confluent_kafka.admin import AclBinding

        binding = AclBinding(*acl_args(acl))
        _wait(self.client.create_acls([binding], request_timeout=TIMEOUT)[binding], "cannot create the ACL")

    def delete_acl(self, acl: dict[str, str]) -> int:
        from confluent_kafka.admin import AclBindingFilter

        matcher = AclBindingFilter(*acl_args(acl))
        deleted = _wait(self.client.delete_acls([matcher], request_timeout=TIMEOUT)[matcher], "cannot delete the ACL")
        return len(deleted)


ACL_FIELDS = ("resource_type", "name", "pattern_type", "principal", "host", "operation", "permission")


def _acl_row(binding: Any) -> dict[str, str]:
    return {"resource_type": binding.restype.name, "name": binding.name, "pattern_type": binding.resource_pattern_type.name,
            "principal": binding.principal, "host": binding.host, "operation": binding.operation.name,
            "permission": binding.permission_type.name}


def acl_args(acl: dict[str, str]) -> tuple[Any, ...]:
    """AclBinding arguments from the form's fields (ValueError names a bad one)."""
    from confluent_kafka.admin import AclOperation, AclPermissionType, ResourcePatternType, ResourceType

    def member(enum: Any, name: str, allowed: Iterable[str]) -> Any:
        value = str(acl.get(name, "")).upper()
        if value not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value[:40]!r}")
        return enum[value]

    principal = str(acl.get("principal", "")).strip()
    if not principal.startswith(("User:", "Group:")) or len(principal) > 255:
        raise ValueError("principal must look like User:alice")
    name = str(acl.get("name", "")).strip()
    if not name or len(name) > 255:
        raise ValueError("a resource name is needed (kafka-cluster for the cluster)")
    host = str(acl.get("host", "") or "*").strip()
    return (member(ResourceType, "resource_type", ("TOPIC", "GROUP", "BROKER", "TRANSACTIONAL_ID")), name,
            member(ResourcePatternType, "pattern_type", ("LITERAL", "PREFIXED")), principal, host,
            member(AclOperation, "operation", ("ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE",
                                               "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE")),
            member(AclPermissionType, "permission", ("ALLOW", "DENY")))
