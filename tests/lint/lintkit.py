"""Test helpers for rules: `assert_flags` and `assert_clean` (each names the other when misused)."""

from __future__ import annotations

import re

from migguard.core.findings import Finding, Report
from migguard.lint.context import LintSettings
from migguard.lint.engine import RulePolicy, lint_text
from migguard.lint.rules import RULES_BY_ID
from migguard.report import text


# A docs example may say where its file lives (`-- file: db/migrations/0012_x.sql` as its first line):
# it is then linted at that path, in a project with the default write paths, without that line.
_FILE_LINE = re.compile(r"\A-- file: (\S+)\n")
DEFAULT_WRITE_PATHS = ("db/migrations", "db/seeds")


def lint_sql(sql: str, *, path: str | None = None, allow_destructive: bool = False,
             **settings: object) -> list[Finding]:
    """Every finding of every rule on `sql`."""
    named = _FILE_LINE.match(sql)
    if named:
        sql, path = sql[named.end():], path or named[1]
        settings.setdefault("write_paths", DEFAULT_WRITE_PATHS)
    policy = RulePolicy.build(allow_destructive=allow_destructive)
    return lint_text(path or "migration.sql", sql, LintSettings(**settings), policy)


def assert_flags(sql: str, rule_id: str, *, count: int | None = None, severity: str | None = None,
                 **settings: object) -> str:
    """Assert `rule_id` fires on `sql`; return its findings rendered as the user sees them."""
    assert rule_id in RULES_BY_ID, f"{rule_id!r} is not a registered rule id"
    findings = lint_sql(sql, **settings)
    mine = [f for f in findings if f.rule == rule_id]
    others = sorted({f.rule for f in findings})
    assert mine, (
        f"expected {rule_id} to fire, it did not (other rules that fired: {others}).\n"
        f"If this SQL is safe, use assert_clean(sql, {rule_id!r}).\nSQL:\n{sql}"
    )
    if count is not None:
        assert len(mine) == count, f"expected {count} {rule_id} finding(s), got {len(mine)}: {mine}"
    if severity is not None:
        assert {f.severity.value for f in mine} == {severity}, f"expected severity {severity}: {mine}"
    for finding in mine:
        assert finding.message and finding.hint, f"{rule_id}: every finding needs a message and a hint"
    body = sql[named.end():] if (named := _FILE_LINE.match(sql)) else sql
    report = Report(command="lint", ok=False, findings=tuple(mine), sources={f.path: body for f in mine})
    return text.render(report)


def assert_clean(sql: str, rule_id: str, **settings: object) -> None:
    """Assert `rule_id` does not fire on `sql`."""
    assert rule_id in RULES_BY_ID, f"{rule_id!r} is not a registered rule id"
    mine = [f for f in lint_sql(sql, **settings) if f.rule == rule_id]
    assert not mine, (
        f"expected {rule_id} to stay silent, it fired:\n"
        + "\n".join(f"  {f.line}:{f.column} {f.message}" for f in mine)
        + f"\nIf this SQL is dangerous, use assert_flags(sql, {rule_id!r}).\nSQL:\n{sql}"
    )
