import pytest

from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-constant-true-policy"


def test_flags_using_true(snapshot):
    sql = "CREATE POLICY allow_all ON invoices USING (true) WITH CHECK (true);"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


@pytest.mark.parametrize("expression", ["true", "(true)", "1 = 1", "'a' = 'a'", "NOT false", "TRUE OR tenant_id = 1",
                                        "'t'::boolean", "2 > 1", "tenant_id = tenant_id", "invoices.tenant_id = tenant_id"])
def test_always_true_spellings(expression):
    assert_flags(f"CREATE POLICY p ON invoices FOR SELECT USING ({expression});", RULE, count=1)


@pytest.mark.parametrize("expression", ["false", "1 = 2", "tenant_id = current_setting('app.tenant_id')::uuid",
                                        "'true' = current_setting('app.is_admin')", "archived",
                                        "tenant_id IN (SELECT m.tenant_id FROM members m WHERE m.tenant_id = tenant_id)"])
def test_expressions_that_are_not_always_true(expression):
    assert_clean(f"CREATE POLICY p ON invoices USING ({expression});", RULE)


def test_with_check_only(snapshot):
    sql = "CREATE POLICY \"Anyone can insert\" ON public.invoices FOR INSERT TO app_user WITH CHECK (1 = 1);"
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_alter_policy_is_checked():
    assert_flags("ALTER POLICY tenant_isolation ON invoices USING (true);", RULE, count=1)
    assert_flags("ALTER POLICY tenant_isolation ON invoices WITH CHECK (NOT FALSE);", RULE, count=1)


def test_restrictive_policies_grant_nothing():
    assert_clean("CREATE POLICY r ON invoices AS RESTRICTIVE USING (true);", RULE)


def test_permissive_true_under_a_restrictive_tenant_policy_is_clean():
    guard = "CREATE POLICY tenant ON invoices AS RESTRICTIVE FOR ALL USING (tenant_id = current_setting('app.tenant_id')::uuid);\n"
    assert_clean(guard + "CREATE POLICY everyone ON invoices FOR SELECT USING (true);", RULE)
    # a restrictive policy for SELECT only does not guard writes
    assert_flags(guard.replace("FOR ALL", "FOR SELECT") + "CREATE POLICY everyone ON invoices FOR UPDATE USING (true);",
                 RULE, count=1)
    # nor does one keyed on something else than the tenant setting
    assert_flags(guard.replace("app.tenant_id", "app.user") + "CREATE POLICY everyone ON invoices USING (true);",
                 RULE, count=1)


def test_mixed_case_schema_quoted_and_transaction():
    sql = 'BEGIN;\ncreate policy "All" on "Billing"."Invoices" as permissive for all using ( TRUE );\nCOMMIT;'
    assert_flags(sql, RULE, count=1)


def test_drop_policy_and_text_are_ignored():
    sql = ("DROP POLICY IF EXISTS allow_all ON invoices;\n-- CREATE POLICY p ON t USING (true);\n"
           "SELECT 'CREATE POLICY p ON t USING (true)';\n"
           "DO $$ BEGIN EXECUTE 'CREATE POLICY p ON t USING (true)'; END $$;")
    assert_clean(sql, RULE)


def test_hint_follows_settings_and_column_type():
    sql = "CREATE TABLE projects (org_id bigint NOT NULL);\nCREATE POLICY p ON projects USING (true);"
    text = assert_flags(sql, RULE, tenant_column="org_id", tenant_setting="app.org")
    assert "org_id = current_setting('app.org')::bigint" in text
