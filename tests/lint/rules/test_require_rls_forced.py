from tests.lint.lintkit import assert_clean, assert_flags

RULE = "require-rls-forced"


def test_flags_enable_without_force(snapshot):
    sql = "CREATE TABLE invoices (id bigint, tenant_id uuid NOT NULL);\nALTER TABLE invoices ENABLE ROW LEVEL SECURITY;"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_clean_with_force():
    sql = ("CREATE TABLE invoices (id bigint, tenant_id uuid NOT NULL);\n"
           "ALTER TABLE invoices ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;")
    assert_clean(sql, RULE)


def test_no_force_does_not_count():
    sql = "CREATE TABLE invoices (tenant_id uuid NOT NULL);\nALTER TABLE invoices NO FORCE ROW LEVEL SECURITY;"
    assert_flags(sql, RULE, count=1)


def test_schema_qualified_quoted_mixed_case_in_transaction():
    sql = ('BEGIN;\nCREATE TABLE IF NOT EXISTS "Billing".invoices (TENANT_ID uuid NOT NULL);\n'
           'ALTER TABLE "Billing".Invoices FORCE ROW LEVEL SECURITY;\nCOMMIT;')
    assert_clean(sql, RULE)
    assert_flags(sql.replace('"Billing".Invoices', "billing.invoices"), RULE, count=1)


def test_add_column_and_partitions(snapshot):
    sql = ("ALTER TABLE invoices ADD COLUMN tenant_id uuid NOT NULL;\n"
           "ALTER TABLE invoices FORCE ROW LEVEL SECURITY;\n"
           "CREATE TABLE invoices_2024 PARTITION OF invoices FOR VALUES IN (2024);")
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_follows_tenant_column_setting():
    sql = "CREATE TABLE projects (org_id bigint NOT NULL);\nALTER TABLE projects ENABLE ROW LEVEL SECURITY;"
    assert_flags(sql, RULE, tenant_column="org_id")
    assert_clean(sql, RULE)


def test_not_fired_without_the_tenant_column():
    assert_clean("CREATE TABLE plans (id bigint, name text);", RULE)
    assert_clean("-- CREATE TABLE t (tenant_id uuid);\nSELECT 'CREATE TABLE t (tenant_id uuid)';", RULE)
