from tests.lint.lintkit import assert_clean, assert_flags

RULE = "require-tenant-policy"

TABLE = "CREATE TABLE invoices (id bigint, tenant_id uuid NOT NULL);\n"
GOOD = "CREATE POLICY tenant_isolation ON invoices USING (tenant_id = current_setting('app.tenant_id')::uuid);"


def test_flags_tenant_table_without_policy(snapshot):
    assert assert_flags(TABLE + "ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;", RULE, count=1,
                        severity="error") == snapshot


def test_flags_policies_not_keyed_on_the_tenant(snapshot):
    sql = TABLE + ("CREATE POLICY \"Owner only\" ON invoices USING (created_by = current_user);\n"
                   "CREATE POLICY other_setting ON invoices USING (tenant_id = current_setting('app.current_tenant')::uuid);\n"
                   "CREATE POLICY literal ON invoices USING ('tenant_id' = current_setting('app.tenant_id'));")
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_clean_with_a_tenant_policy():
    assert_clean(TABLE + GOOD, RULE)


def test_common_spellings_of_the_tenant_condition():
    for using in ("invoices.tenant_id = (SELECT current_setting('app.tenant_id', true))::uuid",
                  "tenant_id::text = current_setting('app.tenant_id')",
                  "current_setting('app.tenant_id')::uuid = tenant_id AND NOT archived"):
        assert_clean(TABLE + f"CREATE POLICY p ON invoices FOR ALL TO app_user USING ({using});", RULE)


def test_with_check_only_does_not_count():
    sql = TABLE + "CREATE POLICY ins ON invoices FOR INSERT WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);"
    assert_flags(sql, RULE, count=1)


def test_alter_policy_counts():
    sql = TABLE + ("CREATE POLICY p ON invoices USING (false);\n"
                   "ALTER POLICY p ON invoices USING (tenant_id = current_setting('app.tenant_id')::uuid);")
    assert_clean(sql, RULE)


def test_dropped_policy_does_not_count():
    assert_flags(TABLE + "DROP POLICY IF EXISTS p ON invoices;", RULE, count=1)


def test_policy_on_another_table_does_not_count():
    assert_flags(TABLE + GOOD.replace("ON invoices", "ON payments"), RULE, count=1)


def test_schema_qualified_quoted_mixed_case_in_transaction():
    sql = ('BEGIN;\nCREATE TABLE IF NOT EXISTS billing."Invoices" (Tenant_Id uuid NOT NULL);\n'
           "create policy P on billing.\"Invoices\" using (TENANT_ID = CURRENT_SETTING('app.tenant_id')::uuid);\nCOMMIT;")
    assert_clean(sql, RULE)


def test_partition_needs_its_own_policy():
    sql = (TABLE.replace(");", ") PARTITION BY HASH (tenant_id);") + GOOD +
           "\nCREATE TABLE invoices_p0 PARTITION OF invoices FOR VALUES WITH (MODULUS 2, REMAINDER 0);")
    assert_flags(sql, RULE, count=1)


def test_follows_tenant_column_and_setting(snapshot):
    sql = ("CREATE TABLE projects (id bigint, org_id bigint NOT NULL);\n"
           "CREATE POLICY p ON projects USING (org_id = current_setting('app.tenant_id')::bigint);")
    assert assert_flags(sql, RULE, tenant_column="org_id", tenant_setting="app.org_id") == snapshot
    assert_clean(sql, RULE, tenant_column="org_id")
    assert_clean(sql.replace("app.tenant_id", "app.org_id"), RULE, tenant_column="org_id", tenant_setting="app.org_id")


def test_not_fired_without_the_tenant_column():
    assert_clean("CREATE TABLE plans (id bigint);\n-- CREATE TABLE t (tenant_id uuid);", RULE)
