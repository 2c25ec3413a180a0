"""One PostgreSQL tree per file and dispatch by node kind (issue 13 item 1).

parse_file parses the file once with PostgreSQL's grammar: each statement gets its slice and node kind
from it, and sqlglot is asked only when a rule reads `.ast`/`.command`. Rules declare the node kinds they
judge (Rule.kinds) and `context.parsed()` hands each rule only those, while the facts shared by rules
(`context.accepted()`) still see every statement."""

from __future__ import annotations

from dataclasses import replace

import pglast
from pglast import parser as pg

from migguard.lint import dispatch
from migguard.lint.context import LintContext, LintSettings
from migguard.lint.engine import RulePolicy, lint_text
from migguard.lint.rules import ALL_RULES
from migguard.sql.parse import parse_file

MIXED = (
    "-- header comment\n"
    "CREATE TABLE café (id bigint, note text);\n"
    "COMMENT ON TABLE café IS 'naïve 🙂 text';\n"
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
    "ALTER TABLE café ADD COLUMN ünits int;\n"
    "DROP TABLE old_stuff"
)


def test_slices_are_pglast_split_slices_and_kinds_are_postgresql_node_types():
    statements = parse_file(MIXED).statements
    slices = pg.split(MIXED, with_parser=True, only_slices=True)
    assert [(s.start, s.start + len(s.text)) for s in statements] == [(p.start, p.stop) for p in slices]
    assert [MIXED[p] for p in slices] == [s.text for s in statements]  # character offsets, not UTF-8 bytes
    assert [s.node_kind for s in statements] == ["CreateStmt", "CommentStmt", "CreateFunctionStmt",
                                                 "AlterTableStmt", "DropStmt"]


def test_sqlglot_runs_only_when_a_tree_is_asked_for_and_never_on_routines():
    statements = parse_file(MIXED).statements
    assert not any(s.trees._done for s in statements)  # splitting alone parses nothing with sqlglot
    function = statements[2]
    assert function.ast is None and function.command.kind == "function"  # PostgreSQL's tree, not sqlglot's
    assert statements[1].trees._done is False  # asking one statement leaves the others alone


def test_a_statement_the_grammar_rejects_has_no_kind_and_no_tree():
    bad, good = parse_file("ALTER TABLE t ADD COLUMN;\nSELECT 1").statements
    assert bad.syntax_error is not None and bad.node_kind == "" and bad.ast is None and bad.command is None
    assert good.node_kind == "SelectStmt" and good.syntax_error is None


def test_parsed_hands_a_rule_only_its_kinds_while_accepted_sees_every_statement():
    context = LintContext("m.sql", parse_file(MIXED).statements, LintSettings())
    context.kinds = frozenset({"DropStmt"})
    assert [s.node_kind for s in context.parsed()] == ["DropStmt"]
    assert len(list(context.accepted())) == 5
    assert context.created_tables == {"café": 0}  # a shared fact, whichever rule asked first


def test_declared_kinds_are_real_postgresql_node_types():
    """A misspelt kind would silently switch a rule off: every name must be one of pglast's statement nodes."""
    known = {name for name in dir(pglast.ast) if isinstance(getattr(pglast.ast, name), type)}
    declared = {kind for rule in ALL_RULES for kind in rule.kinds or ()}
    assert declared and declared <= known, sorted(declared - known)


def test_dispatch_changes_no_finding(monkeypatch):
    """The same file linted with dispatch and with every rule seeing every statement gives the same findings."""
    sql = (
        "CREATE TABLE accounts (id int PRIMARY KEY, tenant_id bigint);\n"
        "ALTER TABLE accounts DROP COLUMN legacy, ALTER COLUMN id TYPE smallint;\n"
        "DROP TABLE old_stuff CASCADE;\nDROP INDEX accounts_idx;\nREINDEX TABLE accounts;\n"
        "ALTER TABLE accounts RENAME COLUMN tenant_id TO org_id;\nCLUSTER accounts USING accounts_pkey;\n"
        "CREATE RULE r AS ON INSERT TO accounts DO INSTEAD DELETE FROM accounts;\n"
        "ALTER TABLE accounts SET TABLESPACE slow;\nDROP SCHEMA billing CASCADE;\n"
        "BEGIN;\nSAVEPOINT s;\nRELEASE SAVEPOINT t;\nBEGIN;\nCREATE TYPE mood AS ENUM ('a');\n"
        "ALTER TYPE mood ADD VALUE 'b';\nALTER TYPE status ADD VALUE 'c';\n"
        "DELETE FROM sessions;\nDO $$ BEGIN UPDATE accounts SET flag = true; END $$;\n"
        "MERGE INTO accounts a USING staged s ON true WHEN MATCHED THEN DELETE;\n"
    )
    policy = RulePolicy.build()
    dispatched = lint_text("m.sql", sql, LintSettings(), policy)
    monkeypatch.setattr(dispatch, "RULES", {rule_id: (*entry[:3], None) for rule_id, entry in dispatch.RULES.items()})
    monkeypatch.setattr(dispatch, "_LOADED", {rule.id: replace(rule, kinds=None) for rule in ALL_RULES})
    everything = lint_text("m.sql", sql, LintSettings(), policy)
    assert len({f.rule for f in dispatched}) >= 8
    assert {"transaction-nesting", "ban-uncommitted-transaction", "require-enum-value-position", "ban-delete-without-where",
            "ban-update-without-where", "ban-destructive-merge"} <= {f.rule for f in dispatched}
    assert [f.model_dump() for f in dispatched] == [f.model_dump() for f in everything]


def test_statements_with_no_expression_to_judge_are_never_parsed_with_sqlglot(monkeypatch):
    """Structure comes from PostgreSQL's tree: indexes, drops, plain ALTER TABLE actions, foreign keys, views,
    comments and grants are linted without a single sqlglot parse, with their findings. A column type (an
    expression for sqlglot) is parsed."""
    import migguard.sql.parse as parse

    parsed: list[str] = []
    real = parse._sqlglot
    monkeypatch.setattr(parse, "_sqlglot", lambda sql: parsed.append(sql) or real(sql))
    sql = (
        "CREATE INDEX accounts_note ON accounts (note);\nDROP INDEX old_idx;\nDROP TABLE legacy;\n"
        "ALTER TABLE accounts DROP COLUMN legacy, ALTER COLUMN id SET NOT NULL, ALTER COLUMN x DROP DEFAULT;\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_account FOREIGN KEY (account_id) REFERENCES accounts (id);\n"
        "CREATE VIEW v AS SELECT id FROM accounts;\nCOMMENT ON TABLE accounts IS 'x';\nGRANT SELECT ON v TO app;\n"
    )
    findings = lint_text("m.sql", sql, LintSettings(), RulePolicy.build())
    assert {"require-concurrent-index-creation", "require-concurrent-index-deletion", "ban-drop-table",
            "ban-drop-column", "constraint-missing-not-valid"} <= {f.rule for f in findings}
    assert parsed == []
    lint_text("m.sql", "ALTER TABLE accounts ADD COLUMN n integer;\n", LintSettings(), RulePolicy.build())
    assert parsed == ["ALTER TABLE accounts ADD COLUMN n integer"]


def test_data_changes_that_cannot_touch_a_locked_table_are_never_parsed_with_sqlglot(monkeypatch):
    """Under a lock, a write or read is parsed only when PostgreSQL's tree names the locked table (the others
    cannot be judged by ban-update-in-ddl-transaction, nor end prefer-single-alter-table's run of ALTER TABLEs
    of that table); seed data is never parsed for its long words. The one UPDATE of the locked table is parsed,
    and flagged."""
    import migguard.sql.parse as parse

    parsed: list[str] = []
    real = parse._sqlglot
    monkeypatch.setattr(parse, "_sqlglot", lambda sql: parsed.append(sql) or real(sql))
    seed = "x" * 80
    sql = (
        f"INSERT INTO settings (k, v) VALUES ('a', '{seed}');\n"
        "BEGIN;\nALTER TABLE accounts DROP COLUMN legacy;\n"
        f"INSERT INTO audit (note) VALUES ('{seed}');\nUPDATE accounts SET flag = true;\nCOMMIT;\n"
    )
    findings = lint_text("m.sql", sql, LintSettings(), RulePolicy.build())
    assert "ban-update-in-ddl-transaction" in {f.rule for f in findings}
    assert parsed == ["UPDATE accounts SET flag = true"]
