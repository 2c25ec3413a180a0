"""A migration wrapped whole in a plain BEGIN; … COMMIT; is one transaction (issue 11, item 7): lint reads it so,
and transaction-nesting fires only for nested or partial transaction control."""

import pytest

from migguard.lint.context import LintContext, LintSettings
from migguard.lint.facts.ddl import transaction_ids
from migguard.sql.parse import parse_file
from migguard.sql.transactions import transaction_text, whole_file_wrapper
from tests.lint.lintkit import assert_clean, assert_flags, lint_sql

RULE = "transaction-nesting"

WRAPPED = [
    "BEGIN;\nALTER TABLE accounts ADD COLUMN note text;\nCOMMIT;",
    "-- header\nbegin work;\nCREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\nend transaction;\n-- trailer\n",
    "START TRANSACTION;\nSAVEPOINT s;\nALTER TABLE a ADD COLUMN b int;\nROLLBACK TO SAVEPOINT s;\n"
    "RELEASE SAVEPOINT s;\nCOMMIT;",
    "BEGIN;\nDO $$ BEGIN PERFORM 1; END $$;\nCOMMIT;",
    "BEGIN;\nCOMMIT;",
]


@pytest.mark.parametrize("sql", WRAPPED)
def test_a_plain_whole_file_wrapper_is_clean(sql):
    assert whole_file_wrapper(parse_file(sql).statements) is not None
    assert_clean(sql, RULE)


NOT_WRAPPED = {
    "begin without commit": "BEGIN;\nALTER TABLE a ADD COLUMN b int;",
    "commit in the middle": "BEGIN;\nALTER TABLE a ADD COLUMN b int;\nCOMMIT;\nALTER TABLE a ADD COLUMN c int;\nCOMMIT;",
    "two blocks": "BEGIN;\nALTER TABLE a ADD COLUMN b int;\nCOMMIT;\nBEGIN;\nALTER TABLE a ADD COLUMN c int;\nCOMMIT;",
    "nested begin": "BEGIN;\nBEGIN;\nALTER TABLE a ADD COLUMN b int;\nCOMMIT;",
    "rollback inside": "BEGIN;\nALTER TABLE a ADD COLUMN b int;\nROLLBACK;\nCOMMIT;",
    "ends in rollback": "BEGIN;\nALTER TABLE a ADD COLUMN b int;\nROLLBACK;",
    "isolation level": "BEGIN ISOLATION LEVEL SERIALIZABLE;\nALTER TABLE a ADD COLUMN b int;\nCOMMIT;",
    "commit and chain": "BEGIN;\nALTER TABLE a ADD COLUMN b int;\nCOMMIT AND CHAIN;",
    "prepare transaction": "BEGIN;\nALTER TABLE a ADD COLUMN b int;\nPREPARE TRANSACTION 'x';\nCOMMIT;",
    "statement before the begin": "ALTER TABLE a ADD COLUMN b int;\nBEGIN;\nALTER TABLE a ADD COLUMN c int;\nCOMMIT;",
}


@pytest.mark.parametrize("sql", NOT_WRAPPED.values(), ids=NOT_WRAPPED.keys())
def test_partial_or_nested_transaction_control_is_not_a_wrapper(sql):
    assert whole_file_wrapper(parse_file(sql).statements) is None


@pytest.mark.parametrize("name", ["commit in the middle", "two blocks", "nested begin", "rollback inside",
                                  "ends in rollback", "isolation level", "commit and chain", "prepare transaction",
                                  "statement before the begin"])
def test_partial_or_nested_transaction_control_is_an_error(name):
    assert_flags(NOT_WRAPPED[name], RULE, severity="error")


def test_the_wrapper_reads_as_one_transaction():
    sql = "BEGIN;\nCREATE TABLE a (id int);\nALTER TABLE a ADD COLUMN b int;\nCOMMIT;"
    parsed = parse_file(sql)
    context = LintContext("m.sql", parsed.statements, LintSettings(), parsed.text)
    assert context.wrapper is not None and context.wrapped_by_runner
    assert set(transaction_ids(context)) == {0}  # one transaction, migguard's, not a nested one
    assert all(context.in_transaction(s.index) for s in parsed.statements)


def test_wrapper_body_text_is_the_files_own_bytes():
    sql = "BEGIN;\n-- add it\nALTER TABLE a ADD COLUMN b int;\nSELECT 1;  -- done\nCOMMIT;\n"
    wrapper = whole_file_wrapper(parse_file(sql).statements)
    assert wrapper.body_text(sql) == "ALTER TABLE a ADD COLUMN b int;\nSELECT 1;  -- done\n"
    assert [s.index for s in wrapper.body] == [1, 2]  # statement numbers stay the file's


def test_a_wrapped_file_with_concurrently_is_still_an_error():
    sql = "BEGIN;\nCREATE INDEX CONCURRENTLY a_b ON a (b);\nCOMMIT;"
    errors = {f.rule for f in lint_sql(sql) if f.severity.value == "error"}
    assert "ban-concurrently-in-transaction" in errors


def test_savepoint_games():
    assert_flags("BEGIN;\nALTER TABLE a ADD COLUMN b int;\nRELEASE SAVEPOINT s;\nCOMMIT;", RULE, count=1)
    assert_flags("ALTER TABLE a ADD COLUMN b int;\nROLLBACK TO s;", RULE, count=1)
    # RELEASE removes the savepoint and the later ones; ROLLBACK TO keeps the one it names.
    assert_flags("SAVEPOINT a;\nSAVEPOINT b;\nRELEASE a;\nROLLBACK TO b;", RULE, count=1)
    assert_clean("SAVEPOINT a;\nSAVEPOINT b;\nROLLBACK TO a;\nROLLBACK TO SAVEPOINT a;\nRELEASE a;", RULE)
    assert_clean('SAVEPOINT "Mixed";\nRELEASE SAVEPOINT "Mixed";', RULE)


def test_without_the_runners_transaction_a_wrapper_is_the_files_own():
    assert_clean("BEGIN;\nALTER TABLE a ADD COLUMN b int;\nCOMMIT;", RULE, assume_in_transaction=False)


def test_transaction_text_is_what_runs_in_migguards_transaction():
    wrapped = "BEGIN;\nDROP TABLE IF EXISTS a;\nCOMMIT;\n"
    assert transaction_text(wrapped) == "DROP TABLE IF EXISTS a;\n"
    assert transaction_text("BEGIN;\nCOMMIT;") == ""
    plain = "DROP TABLE IF EXISTS a;\n"
    assert transaction_text(plain) == plain
    partial = "BEGIN;\nDROP TABLE IF EXISTS a;\nCOMMIT;\nSELECT 1;\n"
    assert transaction_text(partial) == partial  # not a wrapper: lint's error, run as written
