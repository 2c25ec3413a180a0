from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-drop-column"


def test_flags_drop_column(snapshot):
    assert assert_flags("ALTER TABLE accounts DROP COLUMN legacy_plan;", RULE, severity="error") == snapshot


def test_flags_each_column_of_a_multi_action_alter(snapshot):
    sql = 'ALTER TABLE ONLY "Billing".invoices DROP COLUMN IF EXISTS a, ADD COLUMN b int, DROP COLUMN "C";'
    assert assert_flags(sql, RULE, count=2) == snapshot


def test_mixed_case_and_explicit_transaction():
    assert_flags("BEGIN;\nalter TABLE Accounts Drop Column Note;\nCOMMIT;", RULE, count=1)


def test_allow_destructive_demotes_to_warning():
    assert_flags("ALTER TABLE accounts DROP COLUMN note;", RULE, severity="warning", allow_destructive=True)


def test_table_created_earlier_in_the_file_is_info():
    sql = "CREATE TABLE drafts (id bigint, body text);\nALTER TABLE drafts DROP COLUMN body;"
    assert_flags(sql, RULE, severity="info")


def test_clean_on_other_alter_actions():
    assert_clean("ALTER TABLE accounts ADD COLUMN note text, ALTER COLUMN note SET DEFAULT '';", RULE)
    assert_clean("ALTER TABLE accounts DROP CONSTRAINT accounts_note_check;", RULE)


def test_text_in_comments_and_strings_is_not_a_statement():
    sql = "-- ALTER TABLE accounts DROP COLUMN x;\nSELECT 'ALTER TABLE accounts DROP COLUMN x;';\n" \
          "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ SELECT 1 $$;"
    assert_clean(sql, RULE)


def test_ignore_with_reason_silences(snapshot):
    sql = "-- migguard:ignore ban-drop-column -- unused since 2024\nALTER TABLE accounts DROP COLUMN note;"
    assert_clean(sql, RULE)


def test_ignore_without_reason_does_not_silence():
    sql = "-- migguard:ignore ban-drop-column\nALTER TABLE accounts DROP COLUMN note;"
    assert_flags(sql, RULE)
    assert_flags(sql, "ignore-without-reason")
