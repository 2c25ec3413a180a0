"""Session settings in a migration: which statements only set a parameter of the session, and the
lock_timeout / statement_timeout they set, read as PostgreSQL reads them.

Shared by the lint rule `ban-unbounded-timeout` and the runner, which both hold a migration's
timeouts under a ceiling, and by the runner, which replays session settings when it resumes a
statement-by-statement migration (they leave nothing behind in the database to record).
Pure: PostgreSQL's own grammar (pglast) reads the statement, no database is asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pglast
from pglast import ast
from pglast.enums import VariableSetKind

from migguard.core.durations import duration_ms

TIMEOUTS = ("lock_timeout", "statement_timeout")
_MENTIONS = re.compile(r"\b(?:lock_timeout|statement_timeout|reset|set_config)\b", re.IGNORECASE)
_STARTS_SETTING = re.compile(r"^\s*(?:set|reset|select)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class TimeoutSetting:
    """One timeout a statement sets: its name, the value as written, and milliseconds as PostgreSQL
    would store them (0: switched off, as DEFAULT and RESET also leave it; None: PostgreSQL would
    refuse the value, or migguard cannot read it without running the statement)."""

    name: str
    written: str
    ms: int | None

    @property
    def disables(self) -> bool:
        return self.ms == 0


def _const(node: object) -> str | None:
    """The text of a constant (string, integer or numeric), else None."""
    if isinstance(node, ast.TypeCast):
        node = node.arg
    if not isinstance(node, ast.A_Const) or node.isnull:
        return None
    value = node.val
    if isinstance(value, ast.String):
        return value.sval
    if isinstance(value, ast.Integer):
        return str(value.ival)
    if isinstance(value, ast.Float):
        return value.fval
    return None


def _parse(text: str) -> ast.Node | None:
    try:
        statements = pglast.parse_sql(text)
    except pglast.parser.ParseError:
        return None
    return statements[0].stmt if len(statements) == 1 else None


def _set_config_calls(node: ast.Node) -> list[ast.FuncCall] | None:
    """The set_config(…) calls of a `SELECT set_config(…)[, …]` with no FROM; None for any other statement."""
    if not isinstance(node, ast.SelectStmt) or node.fromClause or not node.targetList:
        return None
    calls = []
    for target in node.targetList:
        call = target.val
        if not (isinstance(call, ast.FuncCall) and call.funcname[-1].sval.lower() == "set_config"):
            return None
        calls.append(call)
    return calls


def is_session_setting(text: str) -> bool:
    """SET / RESET of a session parameter, or `SELECT set_config(…)`: nothing of it stays in the
    database, so a resumed migration runs it again rather than recording it as done."""
    if not _STARTS_SETTING.match(text):
        return False
    node = _parse(text)
    if isinstance(node, ast.VariableSetStmt):
        return node.kind != VariableSetKind.VAR_SET_MULTI  # SET TRANSACTION … is no setting
    return node is not None and _set_config_calls(node) is not None


def timeout_settings(text: str) -> list[TimeoutSetting]:
    """The lock_timeout / statement_timeout values one statement sets: `SET [LOCAL|SESSION] … = v`,
    `… TO DEFAULT`, `RESET …`, `RESET ALL`, `SELECT set_config('…', v, …)`."""
    if not _STARTS_SETTING.match(text) or not _MENTIONS.search(text):  # the anchored test first: it is cheap
        return []
    node = _parse(text)
    if isinstance(node, ast.VariableSetStmt):
        kind = node.kind
        if kind == VariableSetKind.VAR_RESET_ALL:
            return [TimeoutSetting(name, "RESET ALL", 0) for name in TIMEOUTS]
        name = (node.name or "").lower()
        if name not in TIMEOUTS:
            return []
        if kind == VariableSetKind.VAR_SET_DEFAULT:
            return [TimeoutSetting(name, "DEFAULT", 0)]
        if kind == VariableSetKind.VAR_RESET:
            return [TimeoutSetting(name, "RESET", 0)]
        if kind != VariableSetKind.VAR_SET_VALUE:
            return []  # FROM CURRENT keeps the value in force
        values = [_const(arg) for arg in node.args or ()]
        written = values[0] if len(values) == 1 and values[0] is not None else None
        return [TimeoutSetting(name, written or text.strip(), duration_ms(written) if written is not None else None)]
    found = []
    for call in (_set_config_calls(node) if node is not None else None) or []:
        args = list(call.args or ())
        name = (_const(args[0]) or "").lower() if args else ""
        if name in TIMEOUTS or (args and _const(args[0]) is None):
            written = _const(args[1]) if len(args) > 1 else None
            found.append(TimeoutSetting(name or "a parameter migguard cannot read", written or "a computed value",
                                        duration_ms(written) if written is not None and name else None))
    return found


def above_ceiling(setting: TimeoutSetting, ceiling: str) -> str | None:
    """Why `setting` breaks the ceiling (the longest value a migration may set), or None when it is within it."""
    if setting.ms is None:
        return (f"sets {setting.name} to {setting.written!s}, a value migguard cannot check against the ceiling "
                f"{ceiling}")
    if setting.disables:
        return f"switches {setting.name} off ({setting.written})"
    limit = duration_ms(ceiling)
    if limit is not None and setting.ms > limit:
        return f"sets {setting.name} to {setting.written}, above the ceiling {ceiling}"
    return None
