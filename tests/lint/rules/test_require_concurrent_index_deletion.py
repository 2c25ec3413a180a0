from tests.lint.lintkit import assert_clean, assert_flags

RULE = "require-concurrent-index-deletion"


def test_flags_drop_index(snapshot):
    assert assert_flags("DROP INDEX accounts_email_idx;", RULE, count=1, severity="error") == snapshot


def test_several_indexes_if_exists_cascade_schema_quoted(snapshot):
    # sqlglot rejects a list of names: PostgreSQL's grammar gives a DropObjects.
    sql = 'drop index if exists "Billing"."Email_Idx", billing.name_idx cascade;'
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_explicit_transaction_and_mixed_case():
    assert_flags("BEGIN;\nDrop Index Public.Accounts_Email_Idx;\nCOMMIT;", RULE, count=1)


def test_index_on_a_table_created_earlier_is_info():
    sql = ("CREATE TABLE notes (id bigint, body text);\nCREATE INDEX notes_body_idx ON notes (body);\n"
           "DROP INDEX notes_body_idx;")
    out = assert_flags(sql, RULE, severity="info")
    assert "on notes" in out


def test_index_created_earlier_on_an_existing_table_is_an_error():
    sql = "CREATE INDEX CONCURRENTLY s_idx ON billing.accounts (email);\nDROP INDEX billing.s_idx;"
    out = assert_flags(sql, RULE, severity="error")
    assert "on billing.accounts" in out


def test_clean_on_concurrently():
    assert_clean("DROP INDEX CONCURRENTLY IF EXISTS accounts_email_idx;", RULE)
    assert_clean("DROP TABLE accounts;", RULE)
    assert_clean("ALTER TABLE accounts DROP CONSTRAINT accounts_email_key;", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("/* DROP INDEX a; */\nSELECT 'DROP INDEX a';\n"
           "DO $$ BEGIN EXECUTE 'DROP INDEX a'; END $$;")
    assert_clean(sql, RULE)
