import pytest

from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-delete-without-where"


def test_flags_delete_without_where(snapshot):
    assert assert_flags("DELETE FROM audit_events;", RULE, count=1, severity="error") == snapshot


def test_flags_constant_true_where(snapshot):
    sql = "DELETE FROM audit_events WHERE true;\nDELETE FROM app.\"Logs\" WHERE (1 = 1) RETURNING id;"
    assert assert_flags(sql, RULE, count=2) == snapshot


def test_where_only_in_a_subquery_or_using_join_does_not_count():
    sql = "DELETE FROM a USING b;\nDELETE FROM a RETURNING (SELECT 1 FROM b WHERE b.id = 1);"
    assert_flags(sql, RULE, count=2)


def test_delete_inside_with_clause():
    assert_flags("WITH gone AS (DELETE FROM sessions RETURNING id) SELECT count(*) FROM gone;", RULE, count=1)


def test_table_created_earlier_in_the_file_is_info():
    sql = "CREATE TABLE tmp_ids (id bigint);\nDELETE FROM tmp_ids;"
    assert_flags(sql, RULE, count=1, severity="info")


def test_mixed_case_in_explicit_transaction_and_allow_destructive():
    assert_flags("BEGIN;\nDelete From ONLY Sessions;\nCOMMIT;", RULE, severity="warning", allow_destructive=True)


def test_clean_with_a_real_where():
    assert_clean("DELETE FROM a WHERE id = 1;\nDELETE FROM a USING b WHERE a.id = b.id;", RULE)
    assert_clean("DELETE FROM a WHERE 1 = 1 AND id > 10;\nDELETE FROM a WHERE true AND false;", RULE)
    assert_clean("WITH old AS (SELECT id FROM a) DELETE FROM a WHERE id IN (SELECT id FROM old);", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- DELETE FROM a;\nSELECT 'DELETE FROM a';\n"
           "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ SELECT 1 $$;")
    assert_clean(sql, RULE)


def test_prepared_delete_is_judged_where_it_is_prepared(snapshot):
    sql = "PREPARE purge AS DELETE FROM victim;\nEXECUTE purge;"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_prepared_delete_with_a_parameter_filter_is_clean():
    assert_clean("PREPARE purge(bigint) AS DELETE FROM victim WHERE id = $1;\nEXECUTE purge(1);", RULE)


@pytest.mark.parametrize("where", ["2 > 1", "id = id", "NOT false", "true IS TRUE", "'a' <> 'b'", "(1 = 1) OR id = 3"])
def test_constant_true_filters(where):
    assert_flags(f"DELETE FROM victim WHERE {where};", RULE, count=1)


@pytest.mark.parametrize("where", ["id > 0", "1 = 2", "id = other_id", "created_at < now()"])
def test_meaningful_filters(where):
    assert_clean(f"DELETE FROM victim WHERE {where};", RULE)


def test_delete_built_from_constants_in_a_do_block():
    assert_flags("DO $$ BEGIN EXECUTE format('DELETE FROM %I WHERE %s', 'victim', 'true'); END $$;", RULE, count=1)


def test_explain_analyze_runs_the_delete():
    assert_flags("EXPLAIN (ANALYZE, BUFFERS) DELETE FROM victim;", RULE, count=1, severity="error")
    assert_clean("EXPLAIN DELETE FROM victim;", RULE)
