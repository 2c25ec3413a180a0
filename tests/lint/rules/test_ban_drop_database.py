from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-drop-database"


def test_flags_drop_database(snapshot):
    assert assert_flags("DROP DATABASE analytics;", RULE, count=1, severity="error") == snapshot


def test_if_exists_with_force_is_recognised_from_postgresql_grammar():
    # sqlglot rejects WITH (FORCE): the statement comes from commands.DropObjects.
    assert_flags("drop database if exists \"Analytics\" with (force);", RULE, count=1)


def test_allow_destructive_demotes_to_warning():
    assert_flags("DROP DATABASE IF EXISTS analytics;", RULE, severity="warning", allow_destructive=True)


def test_clean_on_other_statements():
    assert_clean("CREATE DATABASE analytics;\nDROP SCHEMA analytics;\n-- DROP DATABASE x;\nSELECT 'DROP DATABASE x';",
                 RULE)
