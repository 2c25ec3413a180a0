from tests.lint.lintkit import assert_clean, assert_flags, lint_sql

RULE = "ban-unreadable-dynamic-sql"


def test_flags_execute_of_a_variable_in_a_do_block(snapshot):
    sql = ("DO $$\nDECLARE t text := 'victim';\nBEGIN\n  EXECUTE 'TRUNCATE ' || t;\n"
           "  FOR t IN EXECUTE format('SELECT %s', now()) LOOP NULL; END LOOP;\nEND $$;")
    assert assert_flags(sql, RULE, count=2, severity="error") == snapshot


def test_flags_dynamic_sql_in_a_function_body(snapshot):
    sql = ("CREATE FUNCTION app.purge(t text) RETURNS void LANGUAGE plpgsql AS $$\n"
           "BEGIN\n  EXECUTE format('DELETE FROM %I', t);\nEND $$;")
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_flags_unknown_prepared_statement_other_languages_and_unparsable_bodies():
    assert_flags("EXECUTE purge;", RULE, count=1)
    assert_flags("DO LANGUAGE plpython3u $$ plpy.execute('SELECT 1') $$;", RULE, count=1)
    assert_flags("DO $$ BEGIN EXECUTE; END $$;", RULE, count=1)
    assert_flags("DO $$ BEGIN EXECUTE 'TRUNCATE'; END $$;", RULE, count=1)  # folds to SQL that does not parse


def test_nested_and_mixed_case_in_a_transaction_and_allow_destructive():
    sql = "BEGIN;\nDo $$ Begin Execute 'DO $x$ DECLARE t text; BEGIN EXECUTE t; END $x$'; End $$;\nCOMMIT;"
    assert_flags(sql, RULE, count=1, severity="warning", allow_destructive=True)


def test_clean_on_constant_strings_defined_prepared_statements_and_c_functions():
    sql = ("DO $$ DECLARE n CONSTANT text := 'accounts_id_idx'; BEGIN\n"
           "  EXECUTE 'CREATE INDEX IF NOT EXISTS ' || quote_ident(n) || ' ON accounts (id)';\n"
           "  EXECUTE format('COMMENT ON TABLE %I IS %L', 'accounts', 'it''s');\n"
           "  EXECUTE concat_ws(' ', 'ANALYZE', 'accounts');\nEND $$;\n"
           "PREPARE q AS SELECT 1;\nEXECUTE q;\n"
           "CREATE FUNCTION c_fn() RETURNS void LANGUAGE c AS 'lib', 'fn';")
    assert_clean(sql, RULE)
    assert [f.rule for f in lint_sql(sql) if f.severity == "error"] == []


def test_a_string_nested_too_deeply_to_fold_is_unreadable_not_a_crash():
    sql = "DO $$ BEGIN EXECUTE " + " || ".join(["'a'"] * 3000) + "; END $$;"
    assert_flags(sql, RULE, count=1)


def _nested(sql: str, levels: int) -> str:
    """`sql` run by `levels` DO blocks, each as the EXECUTE string of the one around it."""
    for tag in "abcdefgh"[:levels]:
        sql = f"DO ${tag}$ BEGIN EXECUTE ${tag}{tag}${sql}${tag}{tag}$; END ${tag}$"
    return sql + ";"


def test_sql_nested_deeper_than_migguard_reads_is_unreadable():
    assert_flags(_nested("TRUNCATE victim", 5), RULE, count=1)
    assert_flags(_nested("TRUNCATE victim", 3), "ban-truncate", count=1)
    assert_clean(_nested("TRUNCATE victim", 3), RULE)
