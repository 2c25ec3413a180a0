from tests.lint.lintkit import assert_clean, assert_flags

RULE = "adding-not-null-column"
# sqlglot rejects SET STATISTICS in a multi-action ALTER, so this statement reaches the rule through commands.AlterTable.
FALLBACK = ", ALTER COLUMN id SET STATISTICS 100"


def test_flags_not_null_without_default(snapshot):
    assert assert_flags("ALTER TABLE accounts ADD COLUMN plan text NOT NULL;", RULE, severity="error") == snapshot


def test_primary_key_implies_not_null():
    assert_flags("ALTER TABLE accounts ADD COLUMN code int PRIMARY KEY;", RULE)


def test_default_null_is_no_default():
    assert_flags("ALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT NULL;", RULE)


def test_quoted_schema_qualified_if_not_exists_mixed_case(snapshot):
    sql = 'alter TABLE if EXISTS only "Billing"."Invoices" Add Column If Not Exists "Due At" timestamptz Not Null;'
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_statement_sqlglot_rejects():
    assert_flags(f"ALTER TABLE accounts ADD COLUMN plan text NOT NULL{FALLBACK};", RULE, count=1)
    assert_clean(f"ALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free'{FALLBACK};", RULE)


def test_explicit_transaction():
    assert_flags("BEGIN;\nALTER TABLE accounts ADD COLUMN plan text NOT NULL;\nCOMMIT;", RULE, count=1)


def test_table_created_earlier_in_the_file_is_info():
    sql = "CREATE TABLE drafts (id bigint);\nALTER TABLE drafts ADD COLUMN body text NOT NULL;"
    assert_flags(sql, RULE, severity="info")


def test_hint_before_postgresql_11_avoids_defaults():
    text = assert_flags("ALTER TABLE accounts ADD COLUMN plan text NOT NULL;", RULE, pg_version=10)
    assert "on PostgreSQL 10 a DEFAULT would rewrite" in text


def test_clean_with_a_default_or_nullable():
    assert_clean("ALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free';", RULE)
    assert_clean("ALTER TABLE accounts ADD COLUMN created_at timestamptz DEFAULT now() NOT NULL;", RULE)
    assert_clean("ALTER TABLE accounts ADD COLUMN plan text;", RULE)
    assert_clean("ALTER TABLE accounts ADD COLUMN plan text NULL;", RULE)


def test_clean_for_columns_that_get_values():
    assert_clean("ALTER TABLE accounts ADD COLUMN seq bigserial NOT NULL;", RULE)
    assert_clean("ALTER TABLE accounts ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY NOT NULL;", RULE)
    assert_clean("ALTER TABLE accounts ADD COLUMN total int GENERATED ALWAYS AS (a + b) STORED NOT NULL;", RULE)


def test_clean_on_create_table_and_other_statements():
    assert_clean("CREATE TABLE accounts (id bigint NOT NULL, plan text NOT NULL);", RULE)
    assert_clean("ALTER TABLE accounts ALTER COLUMN plan SET NOT NULL;", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- ALTER TABLE accounts ADD COLUMN plan text NOT NULL;\n"
           "SELECT 'ALTER TABLE accounts ADD COLUMN plan text NOT NULL;';\n"
           "DO $$ BEGIN EXECUTE 'ALTER TABLE accounts ADD COLUMN plan text NOT NULL'; END $$;")
    assert_clean(sql, RULE)
