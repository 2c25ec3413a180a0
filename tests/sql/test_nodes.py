"""PostgreSQL's JSON tree per statement (`Statement.node`) and what is read from it alone (issue 13 item 1):
CREATE INDEX's structure, and the prefilters that keep sqlglot off statements no rule can flag."""

from __future__ import annotations

import pytest

from migguard.lint.facts.dml import _may_reach_every_row
from migguard.sql import nodes
from migguard.sql.parse import parse_file
from migguard.sql.shapes import CreateIndex

LONG = "idx_" + "a" * 70  # longer than PostgreSQL's 63 bytes


def test_each_statement_carries_its_node_from_the_one_parse():
    first, second = parse_file("CREATE INDEX i ON t (a);\nUPDATE t SET a = 1 WHERE id = 2").statements
    assert first.node_kind == "IndexStmt" and set(first.node) == {"IndexStmt"}
    assert second.node["UpdateStmt"]["relation"]["relname"] == "t"


def test_find_reaches_nodes_nested_in_with_clauses():
    (statement,) = parse_file("WITH gone AS (DELETE FROM a RETURNING id) UPDATE b SET x = 1 "
                              "WHERE id IN (SELECT id FROM gone)").statements
    assert [d["relation"]["relname"] for d in nodes.find(statement.node, "DeleteStmt")] == ["a"]
    assert nodes.contains(statement.node, "UpdateStmt") and not nodes.contains(statement.node, "MergeStmt")


def test_create_index_is_read_from_the_json_tree_without_sqlglot():
    (statement,) = parse_file('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "Idx" ON billing.invoices (id)')\
        .statements
    assert statement.command == CreateIndex("Idx", "billing.invoices", True, True, True, "billing")
    assert statement.ast is None and statement.trees._ast is None  # sqlglot never asked


def test_a_name_postgresql_cuts_to_63_bytes_is_reported_as_written():
    (statement,) = parse_file(f"CREATE INDEX {LONG.upper()} ON t (a)").statements
    assert statement.command.name == LONG  # folded to lower case, as PostgreSQL folds it, but not cut
    assert nodes.as_written("CREATE INDEX short ON t (a)", "short") == "short"


def test_writes_whose_where_cannot_be_constant_are_not_judged_further():
    def reaches(sql: str, kind: str = "UpdateStmt") -> bool:
        return _may_reach_every_row(parse_file(sql).statements[0].node, kind)

    assert reaches("UPDATE t SET a = 1")  # no WHERE
    assert reaches("UPDATE t SET a = 1 WHERE 1 = 1") and reaches("UPDATE t SET a = 1 WHERE id = id")
    assert reaches("UPDATE t SET a = 1 WHERE true OR id > 3") and reaches("UPDATE t SET a = 1 WHERE NOT false")
    assert reaches("WITH d AS (DELETE FROM t) SELECT 1", "DeleteStmt")
    assert not reaches("UPDATE t SET a = 1 WHERE id = 5")
    assert not reaches("UPDATE t SET a = 1 WHERE id IN (1, 2)")
    assert not reaches("UPDATE t SET a = 1 WHERE note LIKE 'x%'")
    assert not reaches("DELETE FROM t WHERE id = 1", "UpdateStmt")  # no UPDATE at all


def test_drop_is_read_from_the_json_tree_names_and_kinds_as_sqlglot_gave_them():
    table, function, policy, view = parse_file(
        f"DROP TABLE IF EXISTS a, billing.{LONG} CASCADE;\nDROP FUNCTION f(int), g();\n"
        "DROP POLICY p ON billing.t;\nDROP MATERIALIZED VIEW v").statements
    assert table.command.names == ("a", f"billing.{LONG}") and table.command.cascade and table.command.missing_ok
    assert function.command.object_kind == "function" and function.command.names == ("f", "g")
    assert (policy.command.action, policy.command.name, policy.command.table) == ("drop", "p", "billing.t")
    assert view.command.object_kind == "materialized view"
    assert all(s.trees._ast is None for s in (table, function, policy, view))  # sqlglot never asked


def test_an_alter_table_of_plain_actions_is_read_from_the_json_tree_and_one_with_a_definition_is_not():
    plain, typed = parse_file(
        f"ALTER TABLE IF EXISTS billing.t DROP COLUMN IF EXISTS {LONG} CASCADE, DROP CONSTRAINT c, "
        "ALTER COLUMN a SET NOT NULL, ALTER COLUMN b DROP DEFAULT, ENABLE ROW LEVEL SECURITY, "
        "ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES public.u (id) NOT VALID;\n"
        "ALTER TABLE t DROP COLUMN a, ADD PRIMARY KEY (b), ALTER COLUMN c SET DEFAULT now()").statements
    command = plain.command
    assert (command.table, command.object_kind, command.missing_ok) == ("billing.t", "table", True)
    assert [(a.kind, a.name, a.cascade, a.missing_ok) for a in command.actions] == [
        ("drop_column", LONG, True, True), ("drop_constraint", "c", False, False), ("set_not_null", "a", False, False),
        ("column_default", "b", False, False), ("enable_row_security", None, False, False), ("add_constraint", "fk", False, False)]
    assert (command.actions[-1].constraint_type, command.actions[-1].references, command.actions[-1].not_valid) == \
        ("foreign", "public.u", True)
    assert plain.trees._ast is None  # sqlglot never asked
    assert typed.ast is not None and typed.command is None  # a primary key: its columns' types matter (prefer-bigint)


def test_transaction_control_is_read_from_the_json_tree_as_shapes_reads_it_from_pglast_objects():
    from pglast import parse_sql as pglast_objects

    from migguard.sql.shapes import recognise

    text = ("BEGIN;\nSTART TRANSACTION ISOLATION LEVEL SERIALIZABLE;\nSAVEPOINT s;\nRELEASE SAVEPOINT s;\n"
            "ROLLBACK TO SAVEPOINT s;\nCOMMIT AND CHAIN;\nEND;\nABORT;\nPREPARE TRANSACTION 'x';\n"
            "COMMIT PREPARED 'x';\nROLLBACK PREPARED 'x'")
    statements = parse_file(text).statements
    assert [s.command.kind for s in statements] == [
        "begin", "start", "savepoint", "release", "rollback_to", "commit", "commit", "rollback", "prepare",
        "commit_prepared", "rollback_prepared"]
    assert [s.command for s in statements] == [recognise(pglast_objects(s.text)[0].stmt, s.text) for s in statements]
    assert all(s.trees._ast is None for s in statements)  # sqlglot never asked


FUNCTIONS = [
    "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$BEGIN EXECUTE 'TRUNCATE ' || 'victim'; DROP TABLE t; END$$",
    "CREATE OR REPLACE FUNCTION s.g(a int) RETURNS int LANGUAGE SQL SECURITY DEFINER SET search_path = public "
    "AS 'SELECT a'",
    "CREATE FUNCTION h() RETURNS int AS 'libx', 'h_symbol' LANGUAGE C",
    "CREATE PROCEDURE p() LANGUAGE plpgsql SECURITY INVOKER AS $$BEGIN DELETE FROM t; END$$",
    "CREATE FUNCTION broken() RETURNS void LANGUAGE plpgsql AS $$BEGIN this is not plpgsql; END$$",
    "DO $$BEGIN UPDATE t SET a = 1; END$$",
    "DO LANGUAGE plpgsql 'BEGIN PERFORM 1; END'",
    "ALTER TYPE s.mood ADD VALUE IF NOT EXISTS 'meh' BEFORE 'sad'",
    "ALTER TYPE mood ADD VALUE 'ok'",
    "ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'",
]


def test_functions_do_blocks_and_enum_values_read_from_the_json_tree_as_from_pglasts_objects():
    from migguard.sql.parse import _recognise

    for sql in FUNCTIONS:
        (statement,) = parse_file(sql).statements
        read = nodes.SHAPES[statement.node_kind](statement.node[statement.node_kind], statement.text)
        assert read == _recognise(statement.text), sql
        assert statement.command == read and statement.trees._ast is None  # sqlglot never asked


def test_a_begin_atomic_body_is_left_to_pglasts_objects():
    (statement,) = parse_file("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END").statements
    with pytest.raises(nodes.Unread):
        nodes.create_function(statement.node["CreateFunctionStmt"], statement.text)
    assert statement.command.runs  # read the old way: the statements PostgreSQL parsed


def test_may_name_reads_the_table_references_of_the_tree_not_the_words_of_the_text():
    def may(sql: str, tables: list[str]) -> bool:
        (statement,) = parse_file(sql).statements
        return nodes.may_name(statement.node, statement.text, tables)

    assert may("UPDATE a SET x = (SELECT max(y) FROM public.orders)", ["public.orders"])
    assert may('INSERT INTO log SELECT * FROM "Orders"', ["Orders"])
    assert not may("UPDATE a SET note = 'orders' -- orders\n", ["orders"])  # written, but no table reference
    assert not may("UPDATE a SET x = 1", ["orders"])  # not written at all: the tree is not walked
    assert may('UPDATE U&"\\006Frders" SET x = 1', ["orders"])  # escapes: only the tree can tell
    assert may(f"UPDATE {'t' * 70} SET x = 1", ["t" * 70])  # cut to 63 bytes in the tree
