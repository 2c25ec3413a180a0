"""The renderers of `status`, `diff`, `query` and `rules` (report/status.py, diff.py, query.py,
rules.py), pinned byte for byte: they took over the text and JSON cli.py built inline, and the
output must not change (it was compared with the old CLI on a real database when it moved)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

from migguard.core.findings import Severity
from migguard.drift.results import Comparison, PartWayStatus, Status
from migguard.query.result import QueryResult
from migguard.report import diff, query, rules, status
from migguard.schema.diff import Change

ADD = Change("add column", "public.users.note", "ALTER TABLE public.users ADD COLUMN note text;",
             "ALTER TABLE public.users DROP COLUMN note;", lock="ACCESS EXCLUSIVE")
DROP = Change("drop table", "public.legacy", "DROP TABLE public.legacy;", "CREATE TABLE public.legacy ();",
              destructive=True, lossy=True)


def full_status(**changes) -> Status:
    return Status("postgresql://app:***@db/prod", applied=["0001", "0002"], pending=["0003"], edited=["0002"],
                  missing=["0000"], drift=[ADD], part_way=[PartWayStatus("0003", [1, 2], 4, "2026-12-03: boom")],
                  part_way_edited=["0003 statement 2 changed since it ran"], **changes)


def test_status_text():
    assert status.render_text(full_status()) == (
        "production: postgresql://app:***@db/prod\n"
        "applied:  2 (last 0002)\n"
        "pending:  1 (0003)\n"
        "edited:   0002 changed after it was applied (checksum mismatch)\n"
        "missing:  0000 is applied in production but has no file\n"
        "part way: 0003 ran part way: 2 of 4 statement(s) done (1, 2); apply resumes at the next; "
        "last failure 2026-12-03: boom\n"
        "part way: 0003 statement 2 changed since it ran\n"
        "drift:    add column public.users.note\n")


def test_status_text_says_drift_none_only_when_drift_was_checked():
    assert status.render_text(Status("t")) == "production: t\napplied:  0\npending:  0\ndrift:    none\n"
    assert status.render_text(Status("t", drift_checked=False)) == "production: t\napplied:  0\npending:  0\n"


def test_status_json():
    text = status.render_json(full_status())
    assert text.endswith("}\n") and text.startswith('{\n  "version": 1,\n  "ok": false,\n')
    assert json.loads(text) == {
        "version": 1, "ok": False, "command": "status", "target": "postgresql://app:***@db/prod",
        "applied": ["0001", "0002"], "pending": ["0003"], "edited": ["0002"], "missing": ["0000"],
        "drift": ["add column public.users.note"],
        "part_way": [{"version": "0003", "done": [1, 2], "total": 4, "last_failure": "2026-12-03: boom"}],
        "part_way_edited": ["0003 statement 2 changed since it ran"]}
    assert list(json.loads(text)) == ["version", "ok", "command", "target", "applied", "pending", "edited", "missing",
                                      "drift", "part_way", "part_way_edited"]
    assert json.loads(status.render_json(Status("t", drift_checked=False)))["ok"] is True


def test_diff_text_sql_and_json():
    comparison = Comparison("db/migrations", "prod", [ADD, DROP])
    sql = "ALTER TABLE public.users ADD COLUMN note text;\nDROP TABLE public.legacy;\n"
    assert diff.render_sql(comparison) == sql
    assert diff.render_text(comparison) == (
        "-- 2 change(s) from db/migrations to prod\n"
        "-- add column public.users.note [ACCESS EXCLUSIVE] hazards: access-exclusive-lock\n"
        "-- drop table public.legacy (destructive, lossy) hazards: deletes-data\n" + sql)
    assert diff.render_text(Comparison("a", "b", [])) == "-- 0 change(s) from a to b\n"
    document = json.loads(diff.render_json(comparison))
    assert document == {"version": 1, "command": "diff", "from": "db/migrations", "to": "prod", "changes": [
        {"kind": "add column", "object": "public.users.note", "forward": ADD.forward, "reverse": ADD.reverse,
         "destructive": False, "lossy": False, "lock": "ACCESS EXCLUSIVE", "hazards": ["access-exclusive-lock"],
         "concurrently": False, "validation": False, "details": []},
        {"kind": "drop table", "object": "public.legacy", "forward": DROP.forward, "reverse": DROP.reverse,
         "destructive": True, "lossy": True, "lock": None, "hazards": ["deletes-data"], "concurrently": False,
         "validation": False, "details": []}]}
    assert diff.render_json(comparison).endswith("  ]\n}\n")
    retyped = replace(ADD, kind="alter column type", details=("type integer → bigint", "default 0 → none"))
    changed = json.loads(diff.render_json(Comparison("a", "b", [retyped])))["changes"][0]
    assert changed["details"] == ["type integer → bigint", "default 0 → none"]  # which fields, as drift says


def test_query_renderers_and_their_format_map():
    result = QueryResult("sandbox", "t", None, ("id", "name", "due", "total"),
                         ((1, "a\tb", date(2026, 12, 3), Decimal("2.50")), (10, None, None, None)), truncated=True)
    assert query.render_text(result) == (
        "id | name |    due     | total\n"
        "---+------+------------+------\n"
        " 1 | a\\tb | 2026-12-03 |  2.50\n"
        "10 |      |            |\n")
    assert query.render_json(result) == (
        '{\n  "version": 1,\n  "ok": true,\n  "command": "query",\n'
        '  "columns": ["id", "name", "due", "total"],\n'
        '  "rows": [\n    [1, "a\\tb", "2026-12-03", 2.5],\n    [10, null, null, null]\n  ],\n'
        '  "row_count": 2,\n  "truncated": true\n}\n')
    assert query.RENDERERS == {"text": query.render_text, "json": query.render_json}


def test_query_list_of_playbooks():
    from migguard.query.command import Playbook

    books = [Playbook(name="recent", description="Latest orders", sql="SELECT 1"),
             Playbook(name="by-tenant", description="One tenant's rows", params=("tenant_id", "days"),
                      sql="SELECT %(tenant_id)s, %(days)s", tenant_scoped=True)]
    assert query.render_playbooks(books) == ("recent  (no params)  Latest orders\n"
                                             "by-tenant  (tenant_id, days; tenant_scoped)  One tenant's rows\n")
    assert query.render_playbooks([]) == ""


class _Rule:
    def __init__(self, id, severity, family, destructive, summary):
        self.id, self.default_severity, self.family, self.destructive, self.summary = (
            id, severity, family, destructive, summary)


def test_rules_table_and_list():
    listed = [_Rule("ban-drop-table", Severity.ERROR, "destructive", True, "DROP TABLE destroys data"),
              _Rule("schema-drift", Severity.WARNING, "plan", False, "Production differs")]
    assert rules.render_text(listed) == (
        "ban-drop-table  error    destructive    DROP TABLE destroys data\n"
        "schema-drift    warning  plan           Production differs\n")
    assert rules.render_json(listed) == json.dumps(
        [{"id": "ban-drop-table", "severity": "error", "family": "destructive", "destructive": True,
          "summary": "DROP TABLE destroys data"},
         {"id": "schema-drift", "severity": "warning", "family": "plan", "destructive": False,
          "summary": "Production differs"}], indent=2) + "\n"
