"""Whether a statement runs CONCURRENTLY (so its migration runs statement by statement, outside a
transaction) is read from PostgreSQL's own parse tree, never from sqlglot or the text."""

import pytest

from migguard.sql.parse import parse_sql


@pytest.mark.parametrize("sql", [
    "CREATE INDEX CONCURRENTLY a ON t (x)",
    'create unique index concurrently if not exists "Key" on "Billing".accounts (email)',
    "DROP INDEX CONCURRENTLY IF EXISTS billing.old_idx",
    "REINDEX INDEX CONCURRENTLY accounts_email_idx",
    "REINDEX (CONCURRENTLY) INDEX billing.other_idx",
    "REINDEX (VERBOSE, CONCURRENTLY true) TABLE accounts",
    "REINDEX (CONCURRENTLY 1) TABLE accounts",
    "ALTER TABLE measurements DETACH PARTITION measurements_2023 CONCURRENTLY",
])
def test_runs_concurrently(sql):
    (statement,) = parse_sql(sql)
    assert statement.runs_concurrently


@pytest.mark.parametrize("sql", [
    "CREATE INDEX a ON t (x)",
    "DROP INDEX a",
    "REINDEX (CONCURRENTLY false) TABLE accounts",
    "REINDEX (CONCURRENTLY off) TABLE accounts",
    "REINDEX (CONCURRENTLY 0) TABLE accounts",
    "ALTER TABLE measurements DETACH PARTITION measurements_2023",
    "REFRESH MATERIALIZED VIEW CONCURRENTLY totals",
    "SELECT 'CREATE INDEX CONCURRENTLY a ON t (x)'",
    "DO $$ BEGIN EXECUTE 'DROP INDEX CONCURRENTLY a'; END $$",
    "CREATE TABLE concurrently (id int) -- CREATE INDEX CONCURRENTLY",
])
def test_does_not_run_concurrently(sql):
    (statement,) = parse_sql(sql)
    assert not statement.runs_concurrently


def test_a_file_with_a_syntax_error_elsewhere_still_says_so():
    """The scanner's fallback split (the whole file does not parse) asks PostgreSQL's tree per piece."""
    statements = parse_sql("CREATE INDEX CONCURRENTLY a ON t (x);\nCREATE TABLE (;\nDROP INDEX b;")
    assert [s.runs_concurrently for s in statements] == [True, False, False]
    assert statements[1].syntax_error is not None
