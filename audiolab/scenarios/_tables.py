"""Reading one table of a scenario file: where its lines are, and its values checked with a clear error.

:class:`Where` raises :class:`ScenarioError` naming the file, the table and the line of the key at fault
(found by scanning the text, as tomllib keeps no positions).
"""

from __future__ import annotations

import math
import re
from typing import Any, TypeGuard

from .._exceptions import ScenarioError
from ..focus.policy import BUILTIN

POLICIES = BUILTIN
MAX_SECONDS = 600.0
"""The longest scenario: 10 minutes of virtual time (it runs at about 66x real time, so ~10 s)."""

Table = dict[str, Any]


class Lines:
    """Finds the line of a table's header or of a key inside it, by scanning the text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def header(self, table: str, index: int | None = None) -> int | None:
        if index is None:
            pattern = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]")
        else:
            pattern = re.compile(rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]")
        seen = -1
        for n, line in enumerate(self.lines, 1):
            if pattern.match(line):
                seen += 1
                if index is None or seen == index:
                    return n
        return None

    def key(self, table: str, index: int | None, key: str) -> int | None:
        start = self.header(table, index)
        if start is None:
            return None
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*[=.]")
        for n in range(start, len(self.lines)):
            text = self.lines[n]
            if re.match(r"^\s*\[", text):
                break
            if pattern.match(text):
                return n + 1
        return start

    def top(self, key: str) -> int | None:
        """The line of a top-level key or table named ``key``."""
        for n, line in enumerate(self.lines, 1):
            if re.match(rf"^\s*(\[+\s*)?{re.escape(key)}\b", line):
                return n
        return None


class Where:
    """Raises ScenarioErrors for one table (``[scenario]``, the i-th ``[[action]]`` ...)."""

    def __init__(self, path: str, lines: Lines, table: str, index: int | None) -> None:
        self.path, self.lines, self.table, self.index = path, lines, table, index

    @property
    def label(self) -> str:
        return f"[{self.table}]" if self.index is None else f"[[{self.table}]] #{self.index + 1}"

    @property
    def line(self) -> int | None:
        """The line of the table's header."""
        return self.lines.header(self.table, self.index)

    def error(self, message: str, key: str | None = None) -> ScenarioError:
        line = self.lines.key(self.table, self.index, key) if key else self.line
        return ScenarioError(f"{self.label}: {message}", path=self.path, line=line)


def number(value: Any) -> TypeGuard[int | float]:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def no_unknown(table: Table, known: set[str], where: Where) -> None:
    for key in table:
        if key not in known:
            raise where.error(f"unknown key {key!r}; known: {', '.join(sorted(known))}", key)


def check_policy(value: Any, where: Where, key: str) -> None:
    if value not in POLICIES:
        raise where.error(f"unknown policy {value!r}; use one of {', '.join(POLICIES)}", key)


def scope(table: Table, where: Where) -> tuple[str, ...]:
    """The policies an entry is scoped to (``policy = ...``); () for all."""
    value = table.get("policy", [])
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list):
        raise where.error("'policy' scopes the entry to one policy name or a list of them", "policy")
    for p in value:
        check_policy(p, where, "policy")
    return tuple(value)


def time_of(table: Table, where: Where) -> float:
    if "at" not in table:
        raise where.error("'at' (seconds from the start) is required")
    at = table["at"]
    if not number(at) or not 0 <= at <= MAX_SECONDS:
        raise where.error(f"'at' must be a number of seconds >= 0 and <= {MAX_SECONDS:g}, got {at!r}", "at")
    return float(at)


def name(table: Table, key: str, where: Where) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise where.error(f"{key!r} must be a non-empty string", key if key in table else None)
    return value


def optional_name(table: Table, key: str, where: Where) -> str | None:
    return None if table.get(key) is None else name(table, key, where)


def level(value: Any, where: Where, key: str) -> float:
    """A gain: linear 0..1, or a string "-14dB"."""
    if isinstance(value, str) and value.strip().lower().endswith("db"):
        try:
            db = float(value.strip()[:-2])
        except ValueError:
            raise where.error(f"{key} {value!r} is not a level like '-14dB'", key) from None
        if math.isnan(db) or db > 0:
            raise where.error(f"{key} must be <= 0dB, got {value!r}", key)
        return float(10 ** (db / 20))
    if not number(value) or not 0 <= value <= 1:
        raise where.error(f"{key} must be a linear gain in 0..1 or a level like '-14dB', got {value!r}", key)
    return float(value)
