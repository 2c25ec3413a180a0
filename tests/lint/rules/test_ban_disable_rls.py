from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-disable-rls"


def test_flags_disable(snapshot):
    assert assert_flags("ALTER TABLE invoices DISABLE ROW LEVEL SECURITY;", RULE, count=1, severity="error") == snapshot


def test_flags_no_force(snapshot):
    sql = 'alter table if exists only "Billing".invoices No Force Row Level Security;'
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_among_other_actions():
    assert_flags("ALTER TABLE invoices ADD COLUMN note text, DISABLE ROW LEVEL SECURITY;", RULE, count=1)


def test_new_table_is_still_an_error():
    # Unlike data loss, a table left without row level security is as exposed when it is new.
    sql = "CREATE TABLE t (id int);\nALTER TABLE t ENABLE ROW LEVEL SECURITY;\nALTER TABLE t DISABLE ROW LEVEL SECURITY;"
    assert_flags(sql, RULE, count=1, severity="error")


def test_allow_destructive_demotes_to_warning():
    assert_flags("ALTER TABLE invoices DISABLE ROW LEVEL SECURITY;", RULE, severity="warning", allow_destructive=True)


def test_clean_when_switched_back_on_in_the_same_transaction():
    sql = ("BEGIN;\nALTER TABLE invoices DISABLE ROW LEVEL SECURITY;\nUPDATE invoices SET total = 0 WHERE total IS NULL;\n"
           "ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;\nCOMMIT;")
    assert_clean(sql, RULE)
    sql = "ALTER TABLE invoices NO FORCE ROW LEVEL SECURITY;\nALTER TABLE invoices FORCE ROW LEVEL SECURITY;"
    assert_clean(sql, RULE)


def test_switched_back_on_after_a_commit_still_fires():
    sql = ("BEGIN;\nALTER TABLE invoices DISABLE ROW LEVEL SECURITY;\nCOMMIT;\n"
           "ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;")
    assert_flags(sql, RULE, count=1)


def test_switched_back_on_for_another_table_still_fires():
    sql = "ALTER TABLE a DISABLE ROW LEVEL SECURITY;\nALTER TABLE b ENABLE ROW LEVEL SECURITY;"
    assert_flags(sql, RULE, count=1)


def test_clean_on_enable_and_force_and_text():
    assert_clean("ALTER TABLE a ENABLE ROW LEVEL SECURITY;\nALTER TABLE a FORCE ROW LEVEL SECURITY;", RULE)
    assert_clean("-- ALTER TABLE a DISABLE ROW LEVEL SECURITY;\nSELECT 'ALTER TABLE a DISABLE ROW LEVEL SECURITY';", RULE)
