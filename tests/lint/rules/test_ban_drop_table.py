from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-drop-table"


def test_flags_drop_table(snapshot):
    assert assert_flags("DROP TABLE legacy_invoices;", RULE, count=1, severity="error") == snapshot


def test_if_exists_still_fires_and_says_so(snapshot):
    assert assert_flags("DROP TABLE IF EXISTS billing.legacy_invoices CASCADE;", RULE, count=1) == snapshot


def test_each_table_of_a_multi_table_drop(snapshot):
    sql = 'drop table "Billing"."Invoices", notes;'
    assert assert_flags(sql, RULE, count=2) == snapshot


def test_mixed_case_in_explicit_transaction():
    assert_flags("BEGIN;\nDrop Table Accounts;\nCOMMIT;", RULE, count=1, severity="error")


def test_allow_destructive_demotes_to_warning():
    assert_flags("DROP TABLE accounts;", RULE, severity="warning", allow_destructive=True)


def test_table_created_earlier_in_the_file_is_info():
    sql = "CREATE TABLE staging_rows (id bigint);\nDROP TABLE staging_rows;"
    assert_flags(sql, RULE, count=1, severity="info")


def test_table_created_later_in_the_file_is_still_an_error():
    sql = "DROP TABLE IF EXISTS reports;\nCREATE TABLE reports (id bigint);"
    assert_flags(sql, RULE, count=1, severity="error")


def test_multi_table_drop_mixes_new_and_old_tables():
    sql = "CREATE TABLE scratch (id int);\nDROP TABLE scratch, accounts;"
    findings = assert_flags(sql, RULE, count=2)
    assert "info[ban-drop-table]" in findings and "error[ban-drop-table]" in findings


def test_clean_on_other_drops():
    assert_clean("DROP VIEW accounts_view;\nDROP INDEX accounts_idx;\nDROP SEQUENCE accounts_seq;", RULE)
    assert_clean("ALTER TABLE accounts DROP COLUMN note;", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- DROP TABLE accounts;\n/* DROP TABLE accounts; */\nSELECT 'DROP TABLE accounts;';\n"
           "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'DROP TABLE x'; END $$;")
    assert_clean(sql, RULE)


def test_ignore_with_reason_silences():
    assert_clean("-- migguard:ignore ban-drop-table -- archived in 2024\nDROP TABLE accounts;", RULE)
