from tests.lint.lintkit import assert_clean, assert_flags, lint_sql

RULE = "ban-destructive-code-block"


def test_flags_static_and_folded_statements_in_a_function_body(snapshot):
    sql = ("CREATE OR REPLACE FUNCTION app.reset() RETURNS void LANGUAGE plpgsql AS $body$\n"
           "BEGIN\n  TRUNCATE app.sessions;\n  DELETE FROM app.tokens;\n  ALTER TABLE app.users DROP COLUMN legacy;\n"
           "  EXECUTE format('DROP TABLE %I', 'staging_' || 1);\nEND $body$;")
    assert assert_flags(sql, RULE, count=4) == snapshot


def test_sql_function_procedure_and_begin_atomic():
    sql = ("CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ DELETE FROM sessions $$;\n"
           "CREATE PROCEDURE p() LANGUAGE sql AS $$ DROP SCHEMA old CASCADE $$;\n"
           "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC DELETE FROM x; SELECT 1; END;\n"
           "CREATE FUNCTION h() RETURNS int AS 'DELETE FROM x; SELECT 1' LANGUAGE sql;")
    assert_flags(sql, RULE, count=4)


def test_constant_strings_are_folded_before_they_are_judged():
    sql = ("CREATE FUNCTION purge() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n"
           "  EXECUTE 'TRUNC' || 'ATE victim';\n"
           "  EXECUTE 'UPDATE accounts ' || $q$SET plan = 'free'$q$;\n"
           "  EXECUTE concat('DELETE FROM ', quote_ident('Audit'), ' WHERE true');\nEND $$;")
    messages = [f.message for f in lint_sql(sql) if f.rule == RULE]
    assert len(messages) == 3, messages
    assert "`TRUNCATE victim` (as dynamic SQL)" in messages[0]
    assert "`UPDATE accounts SET plan = 'free'`" in messages[1]
    assert '`DELETE FROM "Audit" WHERE true`' in messages[2]


def test_other_languages_are_searched_as_sql_they_send():
    sql = "CREATE FUNCTION k() RETURNS void LANGUAGE plpython3u AS $$ plpy.execute('TRUNCATE t') $$;"
    assert_flags(sql, RULE, count=1)
    assert_flags("DO LANGUAGE plpython3u $$ plpy.execute('DELETE FROM t') $$;", RULE, count=1)


def test_dropping_a_recreated_table_still_fires():
    sql = "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ drop table cats; create table cats (id int); $$;"
    assert_flags(sql, RULE, count=1)


def test_a_work_table_created_only_in_a_branch_is_not_new():
    sql = ("CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN\n"
           "  IF false THEN CREATE TABLE victim (id int); END IF;\n  TRUNCATE victim;\nEND $$;")
    assert_flags(sql, RULE, count=1)


def test_explicit_transaction_mixed_case_and_allow_destructive():
    sql = "BEGIN;\nCreate Function f() Returns void Language plpgsql As $$ Begin Drop Table Accounts; End $$;\nCOMMIT;"
    assert_flags(sql, RULE, count=1, severity="warning", allow_destructive=True)


def test_do_blocks_are_judged_by_the_statement_rules_instead():
    sql = "DO $$ BEGIN DROP TABLE accounts; EXECUTE 'TRUNC' || 'ATE victim'; END $$;"
    assert_clean(sql, RULE)
    assert {f.rule for f in lint_sql(sql)} >= {"ban-drop-table", "ban-truncate"}


def test_clean_on_narrow_statements_work_tables_comments_and_messages():
    sql = ("CREATE FUNCTION tidy() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n"
           "  -- DROP TABLE accounts; TRUNCATE accounts;\n  /* DELETE FROM accounts; */\n"
           "  DELETE FROM sessions\n    WHERE expires_at < now();\n"
           "  CREATE TEMP TABLE work_ids (id bigint);\n  TRUNCATE work_ids;\n  DELETE FROM work_ids;\n"
           "  DROP TABLE IF EXISTS work_ids;\n"
           "  RAISE NOTICE 'cannot truncate or DROP TABLE here';\n  EXECUTE 'DROP INDEX IF EXISTS x_idx';\n"
           "  EXECUTE 'DELETE FROM ' || quote_ident('t') || ' WHERE id = $1' USING 1;\nEND $$;")
    assert_clean(sql, RULE)
    assert [f.rule for f in lint_sql(sql) if f.severity == "error"] == []


def test_clean_on_literals_of_a_body_without_dynamic_sql_and_on_c_functions():
    sql = ("CREATE FUNCTION log_it() RETURNS void LANGUAGE sql AS $$ INSERT INTO log VALUES ('DROP TABLE x') $$;\n"
           "CREATE FUNCTION c_fn() RETURNS void LANGUAGE c AS 'lib', 'drop_table';\n"
           "SELECT 'DO $$ BEGIN DROP TABLE x; END $$';")
    assert_clean(sql, RULE)
