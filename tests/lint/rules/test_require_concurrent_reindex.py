from tests.lint.lintkit import assert_clean, assert_flags

RULE = "require-concurrent-reindex"


def test_flags_reindex_index(snapshot):
    assert assert_flags("REINDEX INDEX accounts_email_idx;", RULE, count=1, severity="error") == snapshot


def test_before_postgresql_12_hint_is_the_manual_swap(snapshot):
    assert assert_flags("REINDEX TABLE accounts;", RULE, pg_version=11) == snapshot


def test_schema_database_and_system(snapshot):
    sql = "REINDEX SCHEMA billing;\nreindex database app;\nREINDEX SYSTEM app;"
    assert assert_flags(sql, RULE, count=3) == snapshot


def test_quoted_schema_qualified_mixed_case_in_a_transaction():
    out = assert_flags('BEGIN;\nReindex Table "Billing"."Accounts";\nCOMMIT;', RULE, count=1)
    assert "Billing.Accounts" in out


def test_table_created_earlier_is_info():
    assert_flags("CREATE TABLE notes (id bigint);\nREINDEX TABLE notes;", RULE, severity="info")
    sql = "CREATE TABLE notes (id bigint);\nCREATE INDEX notes_id_idx ON notes (id);\nREINDEX INDEX notes_id_idx;"
    assert_flags(sql, RULE, severity="info")


def test_clean_on_concurrently_both_spellings():
    assert_clean("REINDEX INDEX CONCURRENTLY accounts_email_idx;", RULE)
    assert_clean("REINDEX (CONCURRENTLY, VERBOSE) TABLE accounts;", RULE)
    assert_clean("REINDEX (CONCURRENTLY true) TABLE accounts;", RULE)


def test_concurrently_false_is_not_concurrent():
    assert_flags("REINDEX (CONCURRENTLY false) TABLE accounts;", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = "-- REINDEX TABLE a;\nSELECT 'REINDEX TABLE a';\nDO $$ BEGIN EXECUTE 'REINDEX TABLE a'; END $$;"
    assert_clean(sql, RULE)
