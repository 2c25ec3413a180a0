from tests.lint.lintkit import assert_clean, assert_flags

RULE = "require-security-invoker-view"

TABLE = "CREATE TABLE invoices (id bigint, tenant_id uuid NOT NULL, total numeric);\n"


def test_flags_view_over_tenant_table(snapshot):
    assert assert_flags(TABLE + "CREATE VIEW invoice_list AS SELECT id, total FROM invoices;", RULE, count=1,
                        severity="error") == snapshot


def test_security_invoker_spellings_are_clean():
    for options in ("security_invoker = true", "security_invoker", "security_invoker = on",
                    "security_barrier, security_invoker = 'yes'", "security_invoker = 1"):
        assert_clean(TABLE + f"CREATE OR REPLACE VIEW invoice_list WITH ({options}) AS SELECT * FROM invoices;", RULE)


def test_security_invoker_false_is_flagged():
    assert_flags(TABLE + "CREATE VIEW v WITH (security_invoker = false) AS SELECT * FROM invoices;", RULE, count=1)
    assert_flags(TABLE + "CREATE VIEW v WITH (security_invoker = off, security_barrier) AS SELECT * FROM invoices;",
                 RULE, count=1)


def test_view_using_the_tenant_column_of_an_older_table(snapshot):
    sql = 'CREATE OR REPLACE VIEW reporting."Totals" AS SELECT o.tenant_id, sum(o.total) FROM orders o GROUP BY 1;'
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_view_without_tenant_data_is_clean():
    assert_clean("CREATE VIEW plan_names AS SELECT name FROM plans WHERE name <> 'tenant_id';", RULE)
    assert_clean("CREATE VIEW c AS WITH invoices AS (SELECT 1 AS n) SELECT n FROM invoices;", RULE)


def test_views_over_views_over_tenant_data():
    sql = (TABLE + "CREATE VIEW a WITH (security_invoker) AS SELECT id FROM invoices;\n"
           "CREATE VIEW b AS SELECT id FROM a;")
    assert_flags(sql, RULE, count=1)


def test_alter_view_set_security_invoker_later_fixes_it():
    sql = TABLE + "CREATE VIEW v AS SELECT * FROM invoices;\nALTER VIEW v SET (security_invoker = true);"
    assert_clean(sql, RULE)
    assert_flags(sql.replace("true", "false"), RULE, count=1)


def test_materialized_view_always_flagged(snapshot):
    sql = TABLE + "CREATE MATERIALIZED VIEW IF NOT EXISTS invoice_totals AS SELECT tenant_id, sum(total) FROM invoices GROUP BY 1 WITH NO DATA;"
    assert assert_flags(sql, RULE, count=1) == snapshot
    assert_clean("CREATE MATERIALIZED VIEW plan_counts AS SELECT count(*) FROM plans;", RULE)


def test_statements_sqlglot_cannot_type():
    # CREATE VIEW with a bare reloption and CREATE RECURSIVE VIEW fall back to PostgreSQL's parse tree
    assert_clean(TABLE + "CREATE VIEW v WITH (security_invoker) AS SELECT * FROM invoices JOIN plans ON true;", RULE)
    assert_flags(TABLE + "CREATE VIEW v WITH (security_barrier) AS SELECT * FROM invoices JOIN plans ON true;", RULE)
    assert_flags("CREATE RECURSIVE VIEW tree (tenant_id, n) AS VALUES (1, 1) UNION ALL SELECT tenant_id, n + 1 FROM tree WHERE n < 3;",
                 RULE, count=1)


def test_schema_qualified_quoted_mixed_case_in_transaction():
    sql = ('BEGIN;\nCREATE TABLE "Billing".Invoices (Tenant_Id uuid NOT NULL);\n'
           'create view "Billing".v as select * from "Billing".INVOICES;\nCOMMIT;')
    assert_flags(sql, RULE, count=1)
    assert_clean(sql.replace('"Billing".INVOICES', "billing.invoices"), RULE)


def test_older_postgresql_gets_another_hint():
    text = assert_flags(TABLE + "CREATE VIEW v AS SELECT * FROM invoices;", RULE, pg_version=14)
    assert "PostgreSQL 14 has no security_invoker" in text


def test_follows_tenant_column_setting():
    sql = "CREATE VIEW v AS SELECT org_id, name FROM projects;"
    assert_flags(sql, RULE, tenant_column="org_id")
    assert_clean(sql, RULE)


def test_text_in_comments_and_strings_is_ignored():
    assert_clean(TABLE + "-- CREATE VIEW v AS SELECT * FROM invoices;\nSELECT 'CREATE VIEW v AS SELECT * FROM invoices';", RULE)
