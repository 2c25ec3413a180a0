from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-nullable-tenant-column"


def test_flags_nullable_tenant_column(snapshot):
    sql = "CREATE TABLE invoices (\n    id bigint PRIMARY KEY,\n    tenant_id uuid REFERENCES tenants (id)\n);"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_explicit_null_is_nullable():
    assert_flags("CREATE TABLE invoices (tenant_id uuid NULL);", RULE, count=1)


def test_not_null_and_primary_key_are_clean():
    assert_clean("CREATE TABLE invoices (tenant_id uuid NOT NULL);", RULE)
    assert_clean("CREATE TABLE invoices (tenant_id uuid CONSTRAINT tenant_nn NOT NULL);", RULE)
    assert_clean("CREATE TABLE tenants_settings (tenant_id uuid PRIMARY KEY);", RULE)
    assert_clean("CREATE TABLE invoices (tenant_id uuid, id bigint, PRIMARY KEY (tenant_id, id));", RULE)
    assert_clean("CREATE TABLE invoices (tenant_id uuid, id bigint, CONSTRAINT pk PRIMARY KEY (tenant_id, id));", RULE)


def test_add_column(snapshot):
    sql = "ALTER TABLE IF EXISTS billing.invoices ADD COLUMN IF NOT EXISTS tenant_id uuid;"
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_add_column_then_set_not_null_in_the_same_migration():
    assert_clean("ALTER TABLE invoices ADD COLUMN tenant_id uuid;\nUPDATE invoices SET tenant_id = '00000000-0000-0000-0000-000000000000';\n"
                 "ALTER TABLE invoices ALTER COLUMN tenant_id SET NOT NULL;", RULE)
    assert_clean("ALTER TABLE invoices ADD COLUMN tenant_id uuid, ALTER COLUMN tenant_id SET NOT NULL;", RULE)
    # SET NOT NULL on another table does not help
    assert_flags("ALTER TABLE invoices ADD COLUMN tenant_id uuid;\nALTER TABLE payments ALTER COLUMN tenant_id SET NOT NULL;",
                 RULE, count=1)


def test_drop_not_null(snapshot):
    sql = 'BEGIN;\nALTER TABLE "Billing".Invoices ALTER COLUMN Tenant_Id DROP NOT NULL;\nCOMMIT;'
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_statements_sqlglot_cannot_type():
    assert_flags("ALTER TABLE invoices ADD COLUMN tenant_id uuid, ALTER COLUMN total SET STATISTICS 100;", RULE, count=1)
    assert_flags("ALTER TABLE invoices ALTER COLUMN tenant_id DROP NOT NULL, OWNER TO app_owner;", RULE, count=1)
    assert_clean("ALTER TABLE invoices ADD COLUMN tenant_id uuid NOT NULL, ALTER COLUMN total SET STATISTICS 100;", RULE)


def test_table_created_earlier_is_still_an_error():
    sql = "CREATE TABLE invoices (id bigint);\nALTER TABLE invoices ADD COLUMN tenant_id uuid;"
    assert_flags(sql, RULE, count=1, severity="error")


def test_other_columns_partitions_and_temporary_tables_are_clean():
    assert_clean("CREATE TABLE invoices (tenant_id uuid NOT NULL, note text);\nALTER TABLE invoices ALTER COLUMN note DROP NOT NULL;", RULE)
    assert_clean("CREATE TABLE invoices_2024 PARTITION OF invoices FOR VALUES IN (2024);", RULE)
    assert_clean("CREATE TEMP TABLE scratch (tenant_id uuid);", RULE)
    assert_clean("ALTER TABLE invoices ALTER COLUMN tenant_id DROP DEFAULT;", RULE)


def test_follows_tenant_column_setting():
    sql = "CREATE TABLE projects (org_id bigint, tenant_id int);"
    assert_flags(sql, RULE, count=1, tenant_column="org_id")
    assert_clean("CREATE TABLE projects (org_id bigint NOT NULL, tenant_id int);", RULE, tenant_column="org_id")


def test_text_in_comments_strings_and_bodies_is_ignored():
    sql = ("-- ALTER TABLE t ALTER COLUMN tenant_id DROP NOT NULL;\nSELECT 'CREATE TABLE t (tenant_id uuid)';\n"
           "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ ALTER TABLE t ALTER COLUMN tenant_id DROP NOT NULL $$;")
    assert_clean(sql, RULE)
