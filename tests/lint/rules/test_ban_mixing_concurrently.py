import pytest

from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-mixing-concurrently"
INDEX = "CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);"


def test_flags_a_seed_insert_beside_a_concurrent_index(snapshot):
    sql = f"{INDEX}\nINSERT INTO plans (name) VALUES ('free');"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_flags_every_statement_that_stays_applied(snapshot):
    sql = ("SET lock_timeout = '2s';\n"
           'create unique index concurrently if not exists "Key" on "Billing".accounts (email);\n'
           "ALTER TABLE IF EXISTS billing.accounts ADD COLUMN IF NOT EXISTS note text;\n"
           "CREATE TABLE IF NOT EXISTS audit_marks (id int);\n"
           "update billing.accounts set note = 'x' where id = 1;\n"
           "DELETE FROM plans WHERE name = 'old';\n"
           "GRANT SELECT ON billing.accounts TO app_user;\n"
           "DO $$ BEGIN PERFORM 1; END $$;\n"
           "CREATE INDEX plain_idx ON accounts (name);\n"
           "SELECT pg_sleep(1);")
    assert assert_flags(sql, RULE, count=8) == snapshot


@pytest.mark.parametrize("other", [
    "SET lock_timeout = '2s';", "SET LOCAL statement_timeout = '10min';", "RESET lock_timeout;",
    "SELECT set_config('lock_timeout', '1s', false);", "ANALYZE accounts;", "VACUUM (ANALYZE) accounts;",
    "COMMENT ON INDEX accounts_email_idx IS 'login lookups';",
    "DROP INDEX CONCURRENTLY IF EXISTS billing.old_idx;", "REINDEX INDEX CONCURRENTLY accounts_email_idx;",
    "ALTER TABLE measurements DETACH PARTITION measurements_2023 CONCURRENTLY;",
])
def test_clean_beside_what_leaves_nothing_half_applied(other):
    assert_clean(f"{other}\n{INDEX}\n{other}", RULE)


def test_vacuum_full_is_not_harmless():
    assert_flags(f"{INDEX}\nVACUUM (FULL) accounts;", RULE, count=1)


def test_a_file_without_concurrently_runs_in_one_transaction():
    assert_clean("CREATE INDEX accounts_email_idx ON accounts (email);\nINSERT INTO plans VALUES ('free');", RULE)
    assert_clean("REFRESH MATERIALIZED VIEW CONCURRENTLY totals;\nINSERT INTO plans VALUES ('free');", RULE)
    assert_clean("-- CREATE INDEX CONCURRENTLY a ON t (x);\nINSERT INTO plans VALUES ('free');", RULE)


def test_transaction_control_is_not_flagged_but_what_it_wraps_is():
    sql = f"BEGIN;\nINSERT INTO plans VALUES ('free');\nCOMMIT;\n{INDEX}"
    assert_flags(sql, RULE, count=1)


def test_a_table_created_earlier_makes_no_difference():
    sql = "CREATE TABLE notes (body text);\nCREATE INDEX CONCURRENTLY notes_body_idx ON notes (body);"
    assert_flags(sql, RULE, count=1)
