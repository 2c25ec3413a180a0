from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-concurrently-in-transaction"


def test_flags_create_index_concurrently_in_begin_commit(snapshot):
    sql = "BEGIN;\nCREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);\nCOMMIT;"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_every_kind_of_concurrently_statement(snapshot):
    sql = ("start transaction;\n"
           'create unique index concurrently if not exists "Key" on "Billing".accounts (email) nulls not distinct;\n'
           "DROP INDEX CONCURRENTLY IF EXISTS billing.old_idx;\n"
           "REINDEX (CONCURRENTLY) INDEX billing.other_idx;\n"
           "ALTER TABLE measurements DETACH PARTITION measurements_2023 CONCURRENTLY;\n"
           "END;")
    assert assert_flags(sql, RULE, count=4) == snapshot


def test_a_new_table_makes_no_difference():
    sql = "BEGIN;\nCREATE TABLE notes (body text);\nCREATE INDEX CONCURRENTLY ON notes (body);\nCOMMIT;"
    assert_flags(sql, RULE, severity="error")


def test_clean_outside_the_block_and_after_commit():
    assert_clean("CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);", RULE)
    sql = "BEGIN;\nALTER TABLE accounts ADD COLUMN note text;\nCOMMIT;\nCREATE INDEX CONCURRENTLY a ON accounts (note);"
    assert_clean(sql, RULE)
    assert_clean("BEGIN;\nSAVEPOINT s;\nROLLBACK;\nDROP INDEX CONCURRENTLY a;", RULE)


def test_refresh_concurrently_is_allowed_in_a_transaction():
    assert_clean("BEGIN;\nREFRESH MATERIALIZED VIEW CONCURRENTLY totals;\nCOMMIT;", RULE)


def test_plain_statements_in_a_transaction_are_not_this_rule():
    assert_clean("BEGIN;\nCREATE INDEX accounts_email_idx ON accounts (email);\nCOMMIT;", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("BEGIN;\n-- CREATE INDEX CONCURRENTLY a ON t (x);\nSELECT 'DROP INDEX CONCURRENTLY a';\n"
           "DO $$ BEGIN PERFORM 1; END $$; -- concurrently\nCOMMIT;")
    assert_clean(sql, RULE)
