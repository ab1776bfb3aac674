"""Python models as JSON Schemas: the class's neutral model written by
``serde.translate.jsonschema``, plus what only JSON Schema can say: pydantic's (and
annotated-types') constraints as keywords (``ge`` → ``minimum``, ``max_length`` →
``maxLength`` / ``maxItems``, ``pattern``, ``multiple_of`` → ``multipleOf``...), and
``extra="forbid"`` as ``additionalProperties: false``."""
from __future__ import annotations

import json
from typing import Any

from ._api import class_infos, model_type

__all__ = ["schema"]


def schema(cls: type, *, indent: int | None = 2) -> str:
    """The JSON Schema (draft-07 text) of a dataclass or pydantic model class."""
    from ..translate.jsonschema import from_model

    text = from_model(model_type(cls), indent=indent)
    infos = class_infos(cls)
    closed = {info.name for info in infos if info.kind == "pydantic"
              and (getattr(info.cls, "model_config", None) or {}).get("extra") == "forbid"}
    if not closed and not any(f.constraints for info in infos for f in info.fields):
        return text
    document = json.loads(text)
    root = model_type(cls).name
    for info in infos:
        node = document if info.name == root else document.get("definitions", {}).get(info.name)
        if not isinstance(node, dict):
            continue
        if info.name in closed:  # pydantic's extra="forbid": a closed content model
            node["additionalProperties"] = False
        properties = node.get("properties", {})
        for f in info.fields:
            prop = properties.get(f.name)
            if f.constraints and isinstance(prop, dict):
                _add(prop, f.constraints)
    return json.dumps(document, indent=indent, ensure_ascii=False)


def _add(prop: dict[str, Any], constraints: dict[str, Any]) -> None:
    for keyword, value in constraints.items():
        if keyword in ("minimum", "maximum") and keyword in prop:
            # an int32's own bounds: the tighter one wins
            prop[keyword] = max(prop[keyword], value) if keyword == "minimum" else min(prop[keyword], value)
        else:
            prop[keyword] = value
