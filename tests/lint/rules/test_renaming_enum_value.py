from tests.lint.lintkit import assert_clean, assert_flags

RULE = "renaming-enum-value"


def test_flags_rename_value():
    out = assert_flags("ALTER TYPE order_status RENAME VALUE 'done' TO 'completed';", RULE, count=1, severity="error")
    assert "'done'" in out and "'completed'" in out


def test_schema_qualified_allow_destructive_and_new_type():
    assert_flags("ALTER TYPE app.\"Status\" RENAME VALUE 'a' TO 'b';", RULE, severity="warning", allow_destructive=True)
    sql = "CREATE TYPE status AS ENUM ('a');\nALTER TYPE status RENAME VALUE 'a' TO 'b';"
    assert_flags(sql, RULE, count=1, severity="info")


def test_clean_on_add_value_and_other_renames():
    sql = ("ALTER TYPE status ADD VALUE IF NOT EXISTS 'c' AFTER 'b';\nALTER TYPE status RENAME TO state;\n"
           "ALTER TYPE pair RENAME ATTRIBUTE a TO b;")
    assert_clean(sql, RULE)
