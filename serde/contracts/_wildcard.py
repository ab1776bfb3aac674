"""Confluent's wildcard patterns for ``metadata.tags`` keys (field full names).

``**`` matches anything, dots included; ``*`` any run without a dot; ``?`` one
character other than a dot; a backslash escapes the next character; everything else is
literal. The pattern must match the whole name, case-sensitively.
"""
from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    if pattern.endswith("**.*"):  # "**.*" says no more than "**"
        pattern = pattern[:-2]
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if char == "*":
            if pattern.startswith("**", i):
                out.append(".*")
                i += 2
                continue
            out.append("[^.]*")
        elif char == "?":
            out.append("[^.]")
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def matches(name: str, pattern: str) -> bool:
    """Whether the field full name ``name`` matches the wildcard ``pattern``."""
    return compile_pattern(pattern).fullmatch(name) is not None
