from tests.lint.lintkit import assert_clean, assert_flags

RULE = "identifier-too-long"
LONG = "index_subscription_invoices_on_customer_id_and_billing_period_start"  # 67 bytes
OK63 = "a" * 63


def test_flags_long_index_name(snapshot):
    sql = f"CREATE INDEX {LONG} ON subscription_invoices (customer_id, billing_period_start);"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_flags_table_column_and_constraint_names():
    sql = f'CREATE TABLE IF NOT EXISTS s.t_{LONG} (c_{LONG} int CONSTRAINT k_{LONG} NOT NULL, ' \
          f'CONSTRAINT u_{LONG} UNIQUE (x), "Q_{LONG}" text);'
    assert_flags(sql, RULE, count=5)


def test_flags_alter_table_additions_and_renames():
    assert_flags(f"ALTER TABLE t ADD COLUMN c_{LONG} int, ADD CONSTRAINT k_{LONG} CHECK (true);", RULE, count=2)
    assert_flags(f"ALTER TABLE t RENAME TO r_{LONG};", RULE)
    assert_flags(f"ALTER TABLE t RENAME COLUMN a TO r_{LONG};", RULE)
    assert_flags(f"ALTER TABLE t RENAME CONSTRAINT a TO r_{LONG};", RULE)
    assert_flags(f"ALTER INDEX i RENAME TO r_{LONG};", RULE)


def test_flags_other_objects():
    for sql in (f"CREATE VIEW v_{LONG} AS SELECT 1;", f"CREATE SEQUENCE s_{LONG};", f"CREATE SCHEMA s_{LONG};",
                f"CREATE FUNCTION f_{LONG}() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
                f"CREATE TRIGGER t_{LONG} AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();"):
        assert_flags(sql, RULE, count=1)


def test_flags_names_postgres_already_cut_in_recognised_statements(snapshot):
    # CREATE POLICY is only parsed by PostgreSQL's grammar, whose scanner truncates names to 63 bytes:
    # the finding still shows the full name from the text.
    sql = 'CREATE POLICY "Provider notification batches can be created by a member of the team" ON batches ' \
          "FOR INSERT WITH CHECK (true);"
    assert assert_flags(sql, RULE, count=1) == snapshot
    sql = f"CREATE TABLE fb (id int REFERENCES p ON UPDATE CASCADE ON DELETE CASCADE NOT NULL, CONSTRAINT f_{LONG} " \
          "CHECK (true));"
    out = assert_flags(sql, RULE, count=1)
    assert f"f_{LONG}" in out


def test_flags_multibyte_names_by_bytes():
    name = "é" * 32  # 32 characters, 64 bytes
    assert_flags(f'CREATE TABLE "{name}" (a int);', RULE)


def test_flags_inside_explicit_transaction():
    assert_flags(f"BEGIN;\nCREATE INDEX {LONG} ON t (a);\nCOMMIT;", RULE)


def test_clean_at_63_bytes_and_on_references():
    assert_clean(f"CREATE TABLE {OK63} (c_{OK63[2:]} int);", RULE)
    assert_clean(f"ALTER TABLE {LONG} ADD COLUMN a int;\nDROP INDEX {LONG};\nSELECT {LONG} FROM t;", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_name():
    sql = f"-- CREATE INDEX {LONG} ON t (a);\nSELECT '{LONG}';\n" \
          f"DO $$ BEGIN EXECUTE 'CREATE INDEX {LONG} ON t (a)'; END $$;"
    assert_clean(sql, RULE)
