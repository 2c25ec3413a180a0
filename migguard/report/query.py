"""`migguard query`: the rows as an aligned table (text) or JSON, one row a line; `--list`."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from migguard.query.result import QueryResult


def render_json(result: QueryResult) -> str:
    """`{"version": 1, "ok": true, "command": "query", "columns", "rows", "row_count", "truncated"}`, one row a line."""
    def dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    rows = [dumps([_json_value(value) for value in row]) for row in result.rows]
    rows_text = "[\n    " + ",\n    ".join(rows) + "\n  ]" if rows else "[]"
    return ("{\n"
            '  "version": 1,\n  "ok": true,\n  "command": "query",\n'
            f'  "columns": {dumps(list(result.columns))},\n'
            f'  "rows": {rows_text},\n'
            f'  "row_count": {result.row_count},\n'
            f'  "truncated": {dumps(result.truncated)}\n'
            "}\n")


def render_text(result: QueryResult) -> str:
    """An aligned table like psql's: header, rule, rows; numbers right-aligned; NULL is empty."""
    if not result.columns:
        return ""
    cells = [[_text_value(value) for value in row] for row in result.rows]
    numeric = [bool(result.rows) and all(isinstance(row[i], (int, float, Decimal)) and not isinstance(row[i], bool)
                                         for row in result.rows if row[i] is not None)
               for i in range(len(result.columns))]
    widths = [max([len(name), *(len(row[i]) for row in cells)]) for i, name in enumerate(result.columns)]
    lines = [" | ".join(name.center(widths[i]) for i, name in enumerate(result.columns)).rstrip(),
             "-+-".join("-" * width for width in widths)]
    for row in cells:
        lines.append(" | ".join(value.rjust(widths[i]) if numeric[i] else value.ljust(widths[i])
                                for i, value in enumerate(row)).rstrip())
    return "\n".join(lines) + "\n"


RENDERERS = {"text": render_text, "json": render_json}


class PlaybookInfo(Protocol):
    """What `query --list` shows of an approved query (query.command.Playbook)."""

    name: str
    description: str
    params: Sequence[str]
    tenant_scoped: bool


def render_playbooks(books: Iterable[PlaybookInfo]) -> str:
    """`query --list`: one line a playbook, its parameters and whether it is tenant-scoped."""
    return "".join(f"{book.name}  ({', '.join(book.params) or 'no params'}{'; tenant_scoped' if book.tenant_scoped else ''})"
                   f"  {book.description}\n" for book in books)


def _text_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (dict, list)):
        value = json.dumps(_json_value(value), ensure_ascii=False)
    text = str(value)
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        as_float = float(value)
        lossless = value.is_finite() and Decimal(repr(as_float)) == value
        return (int(value) if value == value.to_integral_value() and abs(value) < 2**63 else as_float) \
            if lossless else str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    return str(value)  # UUID, network addresses, ranges, …
