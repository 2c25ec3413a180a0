from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-truncate"


def test_flags_truncate(snapshot):
    assert assert_flags("TRUNCATE sessions;", RULE, count=1, severity="error") == snapshot


def test_cascade_is_named_in_the_message(snapshot):
    assert assert_flags('TRUNCATE TABLE ONLY app."Sessions", tokens RESTART IDENTITY CASCADE;', RULE,
                        count=2) == snapshot


def test_table_created_earlier_in_the_file_is_info():
    sql = "CREATE TABLE import_rows (id bigint);\nINSERT INTO import_rows VALUES (1);\nTRUNCATE import_rows;"
    assert_flags(sql, RULE, count=1, severity="info")


def test_mixed_case_in_explicit_transaction():
    assert_flags("BEGIN;\ntruncate Table Sessions;\nCOMMIT;", RULE, count=1, severity="error")


def test_allow_destructive_demotes_to_warning():
    assert_flags("TRUNCATE sessions;", RULE, severity="warning", allow_destructive=True)


def test_clean_on_delete_and_text():
    assert_clean("DELETE FROM sessions WHERE expires_at < now();", RULE)
    assert_clean("-- TRUNCATE sessions;\nSELECT 'TRUNCATE sessions', trunc(1.5);", RULE)


def test_truncate_assembled_in_a_do_block_is_a_truncate(snapshot):
    sql = "DO $$\nBEGIN\n  EXECUTE 'TRUNC' || 'ATE victim';\nEND $$;"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot
    sql = "DO $$ DECLARE t CONSTANT text := 'vic' || 'tim'; BEGIN EXECUTE format('TRUNCATE %I', t); END $$;"
    assert_flags(sql, RULE, count=1, severity="error")


def test_truncate_written_in_a_do_block_and_in_nested_dynamic_sql():
    assert_flags("DO $$ BEGIN TRUNCATE victim; END $$;", RULE, count=1)
    assert_flags("DO $$ BEGIN EXECUTE 'DO $x$ BEGIN TRUNCATE victim; END $x$'; END $$;", RULE, count=1)


def test_info_when_the_do_block_only_truncates_its_own_work_table():
    assert_flags("DO $$ BEGIN CREATE TEMP TABLE w (id int); EXECUTE 'TRUNCATE ' || 'w'; END $$;", RULE,
                 severity="info")
    # created only in a branch: the name may be production's table
    assert_flags("DO $$ BEGIN IF false THEN CREATE TABLE victim (id int); END IF; TRUNCATE victim; END $$;",
                 RULE, severity="error")


def test_findings_after_a_do_block_keep_their_own_statements():
    from tests.lint.lintkit import lint_sql

    sql = "DO $$ BEGIN TRUNCATE a; END $$;\nCREATE INDEX i ON t (c);\nTRUNCATE b;"
    found = sorted((f.line, f.rule, f.statement) for f in lint_sql(sql) if f.severity == "error")
    assert found == [(1, "ban-truncate", 0), (2, "require-concurrent-index-creation", 1), (3, "ban-truncate", 2)]
