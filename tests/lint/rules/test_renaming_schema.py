from tests.lint.lintkit import assert_clean, assert_flags

RULE = "renaming-schema"


def test_flags_rename_schema():
    out = assert_flags('ALTER SCHEMA "Billing" RENAME TO invoicing;', RULE, count=1, severity="error")
    assert '"Billing" to invoicing' in out


def test_allow_destructive_and_new_schema():
    assert_flags("alter schema billing rename to invoicing;", RULE, severity="warning", allow_destructive=True)
    assert_flags("CREATE SCHEMA billing;\nALTER SCHEMA billing RENAME TO invoicing;", RULE, severity="info")


def test_clean_on_other_renames():
    sql = ("ALTER SCHEMA billing OWNER TO app;\nALTER TABLE billing.t RENAME COLUMN a TO b;\n"
           "ALTER TYPE billing.status RENAME TO state;\n-- ALTER SCHEMA a RENAME TO b;")
    assert_clean(sql, RULE)
