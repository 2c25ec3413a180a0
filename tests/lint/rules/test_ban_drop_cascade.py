from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-drop-cascade"


def test_flags_drop_type_cascade(snapshot):
    assert assert_flags("DROP TYPE invoice_status CASCADE;", RULE, count=1, severity="error") == snapshot


def test_flags_alter_table_drops_with_cascade(snapshot):
    sql = 'ALTER TABLE ONLY "Billing".invoices DROP COLUMN IF EXISTS legacy CASCADE, DROP CONSTRAINT inv_fk CASCADE;'
    assert assert_flags(sql, RULE, count=2) == snapshot


def test_every_kind_of_drop_from_either_parser():
    sql = ("DROP TABLE IF EXISTS a CASCADE;\nDROP VIEW v CASCADE;\nDROP MATERIALIZED VIEW mv CASCADE;\n"
           "DROP SCHEMA s CASCADE;\nDROP INDEX CONCURRENTLY i CASCADE;\nDROP SEQUENCE q CASCADE;\n"
           "DROP FUNCTION f(int), g(text) CASCADE;\nDROP DOMAIN d CASCADE;\nDROP EXTENSION e CASCADE;\n"
           "DROP TRIGGER t ON a CASCADE;\nALTER TYPE composite DROP ATTRIBUTE x CASCADE;")
    assert_flags(sql, RULE, count=12)


def test_mixed_case_in_explicit_transaction_and_allow_destructive():
    assert_flags("BEGIN;\nDrop Table Accounts Cascade;\nCOMMIT;", RULE, severity="warning", allow_destructive=True)


def test_table_created_earlier_in_the_file_is_info():
    sql = "CREATE TABLE scratch (id int);\nDROP TABLE scratch CASCADE;\nALTER TABLE scratch DROP COLUMN id CASCADE;"
    assert_flags(sql, RULE, count=2, severity="info")


def test_clean_without_cascade():
    assert_clean("DROP TABLE a;\nDROP TYPE t RESTRICT;\nALTER TABLE a DROP COLUMN b;\nDROP FUNCTION f(int), g(int);", RULE)
    assert_clean("TRUNCATE a CASCADE;", RULE)


def test_drop_policy_cascade_has_no_effect_and_is_clean():
    assert_clean("DROP POLICY p ON a CASCADE;", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- DROP TABLE a CASCADE;\nSELECT 'DROP TABLE a CASCADE';\n"
           "DO $$ BEGIN RAISE NOTICE 'DROP TYPE t CASCADE'; END $$;")
    assert_clean(sql, RULE)
