from tests.lint.lintkit import assert_clean, assert_flags

RULE = "require-rls-enabled"

POLICY = "CREATE POLICY tenant_isolation ON {t} USING (tenant_id = current_setting('app.tenant_id')::uuid);"


def test_flags_tenant_table_without_enable(snapshot):
    sql = "CREATE TABLE invoices (id bigint PRIMARY KEY, tenant_id uuid NOT NULL);"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_force_and_policy_alone_are_not_enough():
    sql = ("CREATE TABLE invoices (id bigint, tenant_id uuid NOT NULL);\n"
           "ALTER TABLE invoices FORCE ROW LEVEL SECURITY;\n" + POLICY.format(t="invoices"))
    assert_flags(sql, RULE, count=1)


def test_clean_with_enable():
    sql = "CREATE TABLE invoices (id bigint, tenant_id uuid NOT NULL);\nALTER TABLE invoices ENABLE ROW LEVEL SECURITY;"
    assert_clean(sql, RULE)


def test_schema_qualified_quoted_and_mixed_case_names_match():
    sql = ('BEGIN;\nCREATE TABLE IF NOT EXISTS billing."Invoices" (id bigint, Tenant_ID uuid NOT NULL);\n'
           'alter table if exists only billing."Invoices" enable row level security;\nCOMMIT;')
    assert_clean(sql, RULE)
    assert_flags(sql.replace('only billing."Invoices"', "billing.invoices"), RULE, count=1)


def test_public_schema_is_the_default():
    assert_clean("CREATE TABLE public.notes (tenant_id uuid NOT NULL);\nALTER TABLE notes ENABLE ROW LEVEL SECURITY;", RULE)


def test_add_column_points_at_the_clause(snapshot):
    sql = "ALTER TABLE invoices\n    ADD COLUMN IF NOT EXISTS tenant_id uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000';"
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_add_column_sqlglot_cannot_type_is_still_seen():
    # sqlglot returns a generic Command for this ALTER; PostgreSQL's parse tree is used instead.
    sql = "ALTER TABLE invoices ADD COLUMN tenant_id uuid NOT NULL, ALTER COLUMN total SET STATISTICS 100;"
    assert_flags(sql, RULE, count=1)
    assert_clean(sql + "\nALTER TABLE invoices ENABLE ROW LEVEL SECURITY;", RULE)


def test_partition_of_a_tenant_table_needs_its_own(snapshot):
    sql = ("CREATE TABLE events (id bigint, tenant_id uuid NOT NULL, at date) PARTITION BY RANGE (at);\n"
           "ALTER TABLE events ENABLE ROW LEVEL SECURITY;\n"
           "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');")
    assert assert_flags(sql, RULE, count=1) == snapshot
    assert_clean(sql + "\nALTER TABLE events_2024 ENABLE ROW LEVEL SECURITY;", RULE)


def test_partition_of_a_table_not_in_the_file_is_not_known():
    assert_clean("CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');", RULE)


def test_create_table_as_select_with_the_tenant_column():
    assert_flags("CREATE TABLE invoices_copy AS SELECT id, tenant_id FROM invoices;", RULE, count=1)
    assert_clean("CREATE TABLE totals AS SELECT count(*) AS n FROM invoices;", RULE)


def test_one_finding_per_table():
    sql = "CREATE TABLE a (tenant_id uuid NOT NULL);\nCREATE TABLE b (tenant_id uuid NOT NULL);\nALTER TABLE a ENABLE ROW LEVEL SECURITY;"
    assert_flags(sql, RULE, count=1)


def test_follows_tenant_column_setting():
    sql = "CREATE TABLE projects (id bigint, org_id bigint NOT NULL, tenant_id int);"
    assert_flags(sql, RULE, count=1, tenant_column="org_id")
    assert_clean("CREATE TABLE projects (id bigint, tenant_id int);", RULE, tenant_column="org_id")


def test_not_fired_for_other_tables_or_temporary_ones():
    assert_clean("CREATE TABLE tenants (id uuid PRIMARY KEY, name text);", RULE)
    assert_clean("CREATE TEMP TABLE scratch (tenant_id uuid);", RULE)
    assert_clean("CREATE TABLE invoices (tenant_ids uuid[], my_tenant_id uuid);", RULE)


def test_text_in_comments_strings_and_bodies_is_ignored():
    sql = ("-- CREATE TABLE x (tenant_id uuid);\nSELECT 'CREATE TABLE x (tenant_id uuid)';\n"
           "DO $$ BEGIN EXECUTE 'CREATE TABLE x (tenant_id uuid)'; END $$;")
    assert_clean(sql, RULE)


def test_ignore_directive_silences():
    sql = "-- migguard:ignore require-rls-enabled -- platform table, read by the operator only\nCREATE TABLE t (tenant_id uuid NOT NULL);"
    assert_clean(sql, RULE)


def test_the_documented_pattern_is_clean_for_every_tenancy_rule():
    from migguard.lint.rules import FAMILIES

    sql = ("CREATE TABLE invoices (id bigint PRIMARY KEY, tenant_id uuid NOT NULL, total numeric NOT NULL);\n"
           "ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;\nALTER TABLE invoices FORCE ROW LEVEL SECURITY;\n"
           "CREATE POLICY tenant_isolation ON invoices\n"
           "    USING (tenant_id = current_setting('app.tenant_id')::uuid)\n"
           "    WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);\n"
           "CREATE VIEW invoice_totals WITH (security_invoker = true) AS\n"
           "SELECT tenant_id, sum(total) AS total FROM invoices GROUP BY tenant_id;")
    for rule_id in FAMILIES["tenancy"]:
        assert_clean(sql, rule_id)
