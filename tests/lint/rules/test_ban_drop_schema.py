from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-drop-schema"


def test_flags_drop_schema_cascade(snapshot):
    assert assert_flags("DROP SCHEMA IF EXISTS reporting CASCADE;", RULE, count=1, severity="error") == snapshot


def test_flags_without_cascade_with_its_own_message(snapshot):
    assert assert_flags('drop schema "Reporting";', RULE, count=1) == snapshot


def test_each_schema_of_a_multi_schema_drop():
    # sqlglot rejects the list; PostgreSQL's grammar gives a DropObjects.
    assert_flags("DROP SCHEMA IF EXISTS a, b CASCADE;", RULE, count=2)


def test_schema_created_earlier_in_the_file_is_info():
    sql = "CREATE SCHEMA scratch;\nDROP SCHEMA scratch;"
    assert_flags(sql, RULE, count=1, severity="info")


def test_explicit_transaction_and_allow_destructive():
    assert_flags("BEGIN;\nDROP SCHEMA reporting;\nCOMMIT;", RULE, severity="warning", allow_destructive=True)


def test_clean_on_other_statements():
    assert_clean("CREATE SCHEMA IF NOT EXISTS reporting;\nDROP TABLE reporting.t;\nALTER SCHEMA a RENAME TO b;", RULE)
    assert_clean("-- DROP SCHEMA x;\nSELECT 'DROP SCHEMA x';", RULE)
