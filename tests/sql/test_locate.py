"""Positions from PostgreSQL's parse (issue 13 item 1): node locations in characters, and keyword sequences
over scanner tokens where the tree records no location."""

from __future__ import annotations

from migguard.sql import locate
from migguard.sql.parse import parse_file
from tests.lint.lintkit import lint_sql


def _statement(sql: str, index: int = 0):
    return parse_file(sql).statements[index]


def _at(sql: str, offset: int | None, index: int = 0) -> str:
    assert offset is not None
    return _statement(sql, index).text[offset:]


def test_node_locations_count_characters_after_non_ascii_text_and_earlier_statements():
    sql = "SELECT 'été';\n  ALTER TABLE \"état\" ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES b (id)"
    statement = _statement(sql, 1)
    assert statement.node_base == len("SELECT 'été';\n  ".encode())
    assert _at(sql, locate.node_offset(statement, "Constraint", conname="fk"), 1).startswith("CONSTRAINT fk")
    assert _at(sql, locate.node_offset(statement, "RangeVar", relname="b"), 1).startswith("b (id)")
    assert locate.node_offset(statement, "Constraint", conname="other") is None


def test_node_offset_is_the_first_written_of_several_matches():
    sql = "CREATE TABLE t (a int CHECK (a > 0), b int CHECK (b > 0))"
    unnamed = [locate.offset(_statement(sql), c["location"]) for c in locate.nodes(_statement(sql).node, "Constraint")]
    assert sorted(unnamed) == [sql.index("CHECK (a"), sql.index("CHECK (b")]
    assert locate.node_offset(_statement(sql), "ColumnDef", colname="b") == sql.index("b int")


def test_words_takes_optional_and_alternative_keywords_and_names_as_postgres_folds_them():
    sql = 'ALTER TABLE t DROP COLUMN IF EXISTS "Mixed", drop other, ALTER b SET DEFAULT 1'
    statement = _statement(sql)
    assert _at(sql, locate.words(statement, "drop column? if? exists? {}", "Mixed")).startswith("DROP COLUMN IF")
    assert _at(sql, locate.words(statement, "drop column? if? exists? {}", "other")).startswith("drop other")
    assert locate.words(statement, "drop column? if? exists? {}", "mixed") is None  # quoted: case kept
    assert _at(sql, locate.words(statement, "alter column? {} drop|set default", "b")).startswith("ALTER b")
    assert locate.words(statement, "drop column? {}", "other", after=sql.index("ALTER b")) is None


def test_words_never_matches_comments_strings_or_longer_names():
    sql = "-- drop column a\nALTER TABLE t /* drop column a */ ADD x text DEFAULT 'drop column a', DROP COLUMN a_b"
    statement = _statement(sql)
    assert locate.words(statement, "drop column? {}", "a") is None
    assert _at(sql, locate.words(statement, "drop column? {}", "a_b")).startswith("DROP COLUMN a_b")


def test_a_name_postgres_cut_to_63_bytes_matches_as_written():
    long = "c" * 70
    statement = _statement(f"ALTER TABLE t DROP COLUMN {long}")
    assert statement.text[locate.words(statement, "drop column? {}", "c" * 63):].startswith("DROP COLUMN")


def test_relation_offset_points_at_the_table_name_after_its_schema_not_at_an_earlier_mention():
    sql = "UPDATE a SET x = 'orders' FROM public.orders WHERE a.id = orders.id"
    assert _at(sql, locate.relation_offset(_statement(sql), "orders")).startswith("orders WHERE")


def _where(rule_id: str, sql: str) -> list[tuple[int, int]]:
    return [(f.line, f.column) for f in lint_sql(sql) if f.rule == rule_id]


def test_a_constraint_dropped_and_re_added_under_one_name_points_at_the_one_added():
    sql = ("ALTER TABLE t\n  DROP CONSTRAINT t_fk,\n"
           "  ADD CONSTRAINT t_fk FOREIGN KEY (a) REFERENCES u (id);\n")
    assert _where("constraint-missing-not-valid", sql) == [(3, 7)]


def test_a_table_read_under_a_lock_is_pointed_at_where_it_is_read_not_where_a_comment_names_it():
    sql = ("BEGIN;\nALTER TABLE site ADD COLUMN x int;\n"
           "UPDATE t SET a = 1 -- copy from site\n  FROM site WHERE t.id = site.id;\nCOMMIT;\n")
    assert (4, 8) in _where("ban-update-in-ddl-transaction", sql)


def test_a_setting_is_pointed_at_where_it_is_named_a_set_config_one_at_its_string_constant():
    assert _where("ban-unbounded-timeout", "SET lock_timeout = 0;") == [(1, 5)]
    assert _where("ban-unbounded-timeout", "SELECT set_config('lock_timeout', '0', false);") == [(1, 19)]


def test_a_function_body_written_otherwise_than_its_value_is_pointed_at_its_as():
    sql = "CREATE FUNCTION f() RETURNS void LANGUAGE plpython3u AS 'plpy.execute(''DROP TABLE t'')';"
    assert _where("ban-destructive-code-block", sql) == [(1, sql.index(" AS ") + 2)]
