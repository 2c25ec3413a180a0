from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-vacuum-full"


def test_flags_vacuum_full(snapshot):
    assert assert_flags("VACUUM FULL accounts;", RULE, severity="error") == snapshot


def test_flags_option_list_and_whole_database_mixed_case():
    assert_flags('vacuum (Full, Analyze) "Billing"."Invoices", ledger;', RULE, count=1)
    assert "every table of the database" in assert_flags("Vacuum Full;", RULE)


def test_table_created_earlier_in_the_file_is_info():
    assert_flags("CREATE TABLE scratch (id int);\nVACUUM FULL scratch;", RULE, severity="info")


def test_clean_on_plain_vacuum_and_analyze():
    assert_clean("VACUUM accounts;", RULE)
    assert_clean("VACUUM (ANALYZE, VERBOSE) accounts;", RULE)
    assert_clean("ANALYZE accounts;", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = "-- VACUUM FULL accounts;\nSELECT 'VACUUM FULL accounts';\nDO $$ BEGIN PERFORM 1; END $$;"
    assert_clean(sql, RULE)
