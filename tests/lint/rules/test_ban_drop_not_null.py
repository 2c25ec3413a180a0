from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-drop-not-null"
FALLBACK = ", ALTER COLUMN id SET STATISTICS 100"  # forces the commands.AlterTable path


def test_flags_drop_not_null(snapshot):
    sql = "ALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;"
    assert assert_flags(sql, RULE, severity="warning") == snapshot


def test_quoted_schema_qualified_if_exists_mixed_case():
    sql = 'alter table if exists only "Billing"."Invoices" Alter "Due At" Drop Not Null, alter b drop not null;'
    text = assert_flags(sql, RULE, count=2)
    assert "Billing.Invoices.Due At" in text


def test_statement_sqlglot_rejects():
    assert_flags(f"ALTER TABLE accounts ALTER COLUMN email DROP NOT NULL{FALLBACK};", RULE, count=1)


def test_explicit_transaction():
    assert_flags("BEGIN;\nALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;\nCOMMIT;", RULE, count=1)


def test_table_created_earlier_in_the_file_is_info():
    sql = "CREATE TABLE drafts (id bigint, body text NOT NULL);\nALTER TABLE drafts ALTER COLUMN body DROP NOT NULL;"
    assert_flags(sql, RULE, severity="info")


def test_clean_on_other_column_changes():
    assert_clean("ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;", RULE)
    assert_clean("ALTER TABLE accounts ALTER COLUMN email DROP DEFAULT;", RULE)
    assert_clean("ALTER TABLE accounts ALTER COLUMN email DROP EXPRESSION;", RULE)
    assert_clean("ALTER FOREIGN TABLE remote_accounts ALTER COLUMN email DROP NOT NULL;", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- ALTER TABLE a ALTER COLUMN e DROP NOT NULL;\nSELECT 'ALTER TABLE a ALTER COLUMN e DROP NOT NULL';\n"
           "DO $$ BEGIN EXECUTE 'ALTER TABLE a ALTER COLUMN e DROP NOT NULL'; END $$;")
    assert_clean(sql, RULE)
