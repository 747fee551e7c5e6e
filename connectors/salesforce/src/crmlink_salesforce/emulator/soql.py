"""A small SOQL subset: ``SELECT f, ... | COUNT() FROM Obj [WHERE c [AND|OR c]...]
[ORDER BY f [ASC|DESC]] [LIMIT n] [OFFSET n]``.

Conditions compare one field with a literal: ``= != <> < <= > >= LIKE IN NOT IN``; literals are
quoted strings (with backslash escapes), numbers, ``true``/``false``/``null``, dates and
date-times. ``AND`` binds tighter than ``OR``; parentheses group. Errors are Salesforce's
``MALFORMED_QUERY`` / ``INVALID_FIELD`` / ``INVALID_TYPE``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crmlink_salesforce.emulator.errors import ApiError
from crmlink_salesforce.emulator.schema import ObjectDef, OrgSchema
from crmlink_salesforce.emulator.store import format_datetime

__all__ = ["Query", "parse_query"]

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op><>|!=|<=|>=|=|<|>)|(?P<punct>[(),])"
    r"|(?P<word>[A-Za-z_][\w.]*(?:\(\))?|[-+]?\d[\w:.+-]*))"
)
_KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "ORDER",
    "BY",
    "LIMIT",
    "OFFSET",
    "ASC",
    "DESC",
    "LIKE",
    "IN",
    "NOT",
    "NULLS",
    "FIRST",
    "LAST",
}
_MISSING = object()


@dataclass
class _Cond:
    field: str
    op: str
    value: Any

    def test(self, record: dict[str, Any]) -> bool:
        actual = record.get(self.field)
        if self.op in ("IN", "NOT IN"):
            hit = any(_equal(actual, v) for v in self.value)
            return hit if self.op == "IN" else not hit
        if self.op == "=":
            return _equal(actual, self.value)
        if self.op in ("!=", "<>"):
            return not _equal(actual, self.value)
        if self.op == "LIKE":
            if actual is None or self.value is None:
                return False
            pattern = "".join(
                ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in self.value
            )
            return re.fullmatch(pattern, str(actual), re.IGNORECASE | re.DOTALL) is not None
        if actual is None or self.value is None:
            return False
        try:
            left, right = _comparable(actual), _comparable(self.value)
            if self.op == "<":
                return bool(left < right)
            if self.op == "<=":
                return bool(left <= right)
            if self.op == ">":
                return bool(left > right)
            return bool(left >= right)
        except TypeError:
            return False


@dataclass
class _BoolExpr:
    op: str  # "AND" or "OR"
    parts: list[_Cond | _BoolExpr] = field(default_factory=list)

    def test(self, record: dict[str, Any]) -> bool:
        if self.op == "AND":
            return all(p.test(record) for p in self.parts)
        return any(p.test(record) for p in self.parts)


def _equal(actual: Any, expected: Any) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.lower() == expected.lower()
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    return bool(_comparable(actual) == _comparable(expected))


def _comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value


@dataclass
class Query:
    """A parsed query, resolved against the schema."""

    obj: ObjectDef
    fields: list[str]
    count_only: bool = False
    where: _Cond | _BoolExpr | None = None
    order_by: list[tuple[str, bool]] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0

    def run(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Filter, sort and slice ``records``."""
        where = self.where
        rows = [r for r in records if where is None or where.test(r)]
        for name, descending in reversed(self.order_by):
            present = [r for r in rows if r.get(name) is not None]
            absent = [r for r in rows if r.get(name) is None]
            present.sort(key=_sort_by(name), reverse=descending)
            rows = present + absent if not descending else absent + present
        rows = rows[self.offset :]
        if self.limit is not None:
            rows = rows[: self.limit]
        return rows


def _sort_by(name: str) -> Callable[[dict[str, Any]], Any]:
    def key(record: dict[str, Any]) -> Any:
        value = record[name]
        return value.lower() if isinstance(value, str) else value

    return key


class _Parser:
    def __init__(self, text: str, schema: OrgSchema) -> None:
        self.text = text
        self.schema = schema
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        stripped = text.rstrip()
        while pos < len(stripped):
            match = _TOKEN.match(stripped, pos)
            if match is None or match.end() == pos:
                raise self.malformed(f"unexpected token: '{stripped[pos : pos + 20].strip()}'")
            kind = match.lastgroup or "word"
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
        self.pos = 0

    def malformed(self, detail: str) -> ApiError:
        return ApiError(
            400, "MALFORMED_QUERY", f"\n{self.text}\n^\nERROR at Row:1:Column:1\n{detail}"
        )

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def peek_kw(self) -> str | None:
        token = self.peek()
        return token.upper() if token is not None else None

    def take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise self.malformed("unexpected end of query")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, keyword: str) -> None:
        _, value = self.take()
        if value.upper() != keyword:
            raise self.malformed(f"unexpected token: '{value}' (expected {keyword})")

    def parse(self) -> Query:
        self.expect("SELECT")
        raw_fields: list[str] = []
        count_only = False
        while True:
            kind, value = self.take()
            if kind != "word" or value.upper() in _KEYWORDS:
                raise self.malformed(f"unexpected token: '{value}'")
            if value.upper() == "COUNT()":
                count_only = True
            else:
                raw_fields.append(value)
            if self.peek() == ",":
                self.take()
                continue
            break
        self.expect("FROM")
        _, obj_name = self.take()
        obj = self.schema.object(obj_name)
        if obj is None or obj.is_platform_event:
            raise ApiError(
                400,
                "INVALID_TYPE",
                f"\n{self.text}\n^\nERROR at Row:1:Column:1\nsObject type "
                f"'{obj_name}' is not supported. If you are attempting to use a "
                "custom object, be sure to append the '__c' after the entity name.",
            )
        query = Query(obj, [self.field_name(obj, f) for f in raw_fields], count_only)
        if self.peek_kw() == "WHERE":
            self.take()
            query.where = self.parse_or(obj)
        if self.peek_kw() == "ORDER":
            self.take()
            self.expect("BY")
            while True:
                name = self.field_name(obj, self.take()[1])
                descending = False
                if self.peek_kw() in ("ASC", "DESC"):
                    descending = self.take()[1].upper() == "DESC"
                if self.peek_kw() == "NULLS":
                    self.take()
                    self.take()
                query.order_by.append((name, descending))
                if self.peek() != ",":
                    break
                self.take()
        if self.peek_kw() == "LIMIT":
            self.take()
            query.limit = self.integer()
        if self.peek_kw() == "OFFSET":
            self.take()
            query.offset = self.integer()
        if self.peek() is not None:
            raise self.malformed(f"unexpected token: '{self.peek()}'")
        return query

    def integer(self) -> int:
        _, value = self.take()
        if not value.isdigit():
            raise self.malformed(f"unexpected token: '{value}'")
        return int(value)

    def field_name(self, obj: ObjectDef, raw: str) -> str:
        found = obj.field(raw)
        if found is None:
            raise ApiError(
                400,
                "INVALID_FIELD",
                f"\n{self.text}\n^\nERROR at Row:1:Column:1\nNo such column "
                f"'{raw}' on entity '{obj.name}'. If you are attempting to use a "
                "custom field, be sure to append the '__c' after the custom field "
                "name. Please reference your WSDL or the describe call for the "
                "appropriate names.",
            )
        return found.name

    def parse_or(self, obj: ObjectDef) -> _Cond | _BoolExpr:
        parts = [self.parse_and(obj)]
        while self.peek_kw() == "OR":
            self.take()
            parts.append(self.parse_and(obj))
        return parts[0] if len(parts) == 1 else _BoolExpr("OR", parts)

    def parse_and(self, obj: ObjectDef) -> _Cond | _BoolExpr:
        parts = [self.parse_atom(obj)]
        while self.peek_kw() == "AND":
            self.take()
            parts.append(self.parse_atom(obj))
        return parts[0] if len(parts) == 1 else _BoolExpr("AND", parts)

    def parse_atom(self, obj: ObjectDef) -> _Cond | _BoolExpr:
        if self.peek() == "(":
            self.take()
            inner = self.parse_or(obj)
            if self.take()[1] != ")":
                raise self.malformed("expected ')'")
            return inner
        name = self.field_name(obj, self.take()[1])
        kind, op = self.take()
        op = op.upper()
        if op == "NOT":
            self.expect("IN")
            op = "NOT IN"
        if op in ("IN", "NOT IN"):
            if self.take()[1] != "(":
                raise self.malformed("expected '('")
            values = []
            while True:
                values.append(self.literal())
                sep = self.take()[1]
                if sep == ")":
                    break
                if sep != ",":
                    raise self.malformed(f"unexpected token: '{sep}'")
            return _Cond(name, op, values)
        if kind != "op" and op != "LIKE":
            raise self.malformed(f"unexpected token: '{op}'")
        return _Cond(name, op, self.literal())

    def literal(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), value[1:-1])
        upper = value.upper()
        if upper == "NULL":
            return None
        if upper in ("TRUE", "FALSE"):
            return upper == "TRUE"
        if re.fullmatch(r"[-+]?\d+", value):
            return int(value)
        if re.fullmatch(r"[-+]?\d*\.\d+", value):
            return float(value)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return value
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})", value):
            return format_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))
        raise self.malformed(f"unexpected token: '{value}'")


def parse_query(text: str, schema: OrgSchema) -> Query:
    """Parse ``text`` against ``schema``; raises :class:`ApiError` as Salesforce would."""
    if not text or not text.strip():
        raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    return _Parser(text, schema).parse()
