from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-drop-policy"


def test_flags_drop_policy(snapshot):
    assert assert_flags("DROP POLICY tenant_isolation ON invoices;", RULE, count=1, severity="error") == snapshot


def test_quoted_name_and_schema_qualified_table(snapshot):
    sql = 'drop policy if exists "Members can read" on public."Invoices";'
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_recreated_under_another_name_still_fires():
    sql = "DROP POLICY old_read ON invoices;\nCREATE POLICY new_read ON invoices USING (true);"
    assert_flags(sql, RULE, count=1)


def test_recreated_after_a_commit_still_fires():
    sql = "BEGIN;\nDROP POLICY p ON invoices;\nCOMMIT;\nCREATE POLICY p ON invoices USING (tenant_id = 1);"
    assert_flags(sql, RULE, count=1)


def test_table_created_earlier_in_the_file_is_info():
    sql = ("CREATE TABLE notes (id int);\nCREATE POLICY p ON notes USING (true);\nDROP POLICY p ON notes;")
    assert_flags(sql, RULE, count=1, severity="info")


def test_allow_destructive_demotes_to_warning():
    assert_flags("DROP POLICY p ON invoices;", RULE, severity="warning", allow_destructive=True)


def test_clean_when_recreated_in_the_same_transaction():
    sql = ("BEGIN;\nDROP POLICY IF EXISTS p ON public.invoices;\n"
           "CREATE POLICY p ON invoices USING (tenant_id = current_setting('app.tenant_id')::uuid);\nCOMMIT;")
    assert_clean(sql, RULE)


def test_clean_on_alter_policy_and_text():
    assert_clean("ALTER POLICY p ON invoices USING (true);\n-- DROP POLICY p ON invoices;\nSELECT 'DROP POLICY p ON t';",
                 RULE)
