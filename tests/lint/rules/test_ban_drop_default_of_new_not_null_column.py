from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-drop-default-of-new-not-null-column"
FALLBACK = ", ALTER COLUMN id SET STATISTICS 100"  # forces the commands.AlterTable path


def test_flags_drop_default_after_add_not_null(snapshot):
    sql = ("ALTER TABLE \"tests_model\" ADD COLUMN \"field\" varchar(40) DEFAULT 'test' NOT NULL;\n"
           "ALTER TABLE \"tests_model\" ALTER COLUMN \"field\" DROP DEFAULT;")
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_set_default_null_one_statement_and_statement_sqlglot_rejects():
    sql = "ALTER TABLE a ADD COLUMN plan text NOT NULL DEFAULT 'free';\nALTER TABLE a ALTER plan SET DEFAULT NULL;"
    assert_flags(sql, RULE, count=1)
    sql = (f"ALTER TABLE a ADD plan text NOT NULL DEFAULT 'free'{FALLBACK};\n"
           f"ALTER TABLE a ALTER COLUMN plan DROP DEFAULT{FALLBACK};")
    assert_flags(sql, RULE, count=1)


def test_clean_when_nullable_older_new_table_or_other_default():
    assert_clean("ALTER TABLE a ADD COLUMN plan text DEFAULT 'free';\nALTER TABLE a ALTER COLUMN plan DROP DEFAULT;",
                 RULE)
    assert_clean("ALTER TABLE a ALTER COLUMN plan DROP DEFAULT;", RULE)  # added by an earlier migration
    sql = ("CREATE TABLE a (id int);\nALTER TABLE a ADD COLUMN plan text NOT NULL DEFAULT 'free';\n"
           "ALTER TABLE a ALTER COLUMN plan DROP DEFAULT;")
    assert_clean(sql, RULE)
    sql = ("ALTER TABLE a ADD COLUMN plan text NOT NULL DEFAULT 'free';\n"
           "ALTER TABLE a ALTER COLUMN plan SET DEFAULT 'basic', ALTER COLUMN plan DROP NOT NULL;")
    assert_clean(sql, RULE)
    sql = ("ALTER TABLE a ADD COLUMN plan text NOT NULL DEFAULT 'free';\n"
           "ALTER TABLE b ALTER COLUMN plan DROP DEFAULT;")
    assert_clean(sql, RULE)
