from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-add-exclusion-constraint"
FALLBACK = ", ALTER COLUMN id SET STATISTICS 100"  # forces the commands.AlterTable path


def test_flags_exclusion_constraint_on_existing_table():
    sql = "ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);"
    out = assert_flags(sql, RULE, count=1, severity="error")
    assert "no_overlap" in out and "ACCESS EXCLUSIVE" in out


def test_unnamed_and_statement_sqlglot_rejects():
    assert_flags("alter table authors add exclude (name with =);", RULE, count=1)
    assert_flags(f"ALTER TABLE bookings ADD CONSTRAINT x EXCLUDE (room WITH =){FALLBACK};", RULE, count=1)


def test_new_table_is_info():
    sql = "CREATE TABLE b (room int);\nALTER TABLE b ADD CONSTRAINT x EXCLUDE (room WITH =);"
    assert_flags(sql, RULE, count=1, severity="info")


def test_clean_on_create_table_and_other_constraints():
    sql = ("CREATE TABLE b (room int, CONSTRAINT x EXCLUDE (room WITH =));\n"
           "ALTER TABLE a ADD CONSTRAINT c CHECK (n > 0) NOT VALID;\n"
           "ALTER TABLE a ADD CONSTRAINT u UNIQUE USING INDEX a_u;")
    assert_clean(sql, RULE)
