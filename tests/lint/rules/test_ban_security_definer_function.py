from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-security-definer-function"


def test_flags_security_definer(snapshot):
    sql = ("CREATE FUNCTION invoice_total(p_invoice bigint) RETURNS numeric\nLANGUAGE sql SECURITY DEFINER\n"
           "AS $$ SELECT total FROM invoices WHERE id = p_invoice $$;")
    assert assert_flags(sql, RULE, count=1, severity="warning") == snapshot


def test_says_when_it_reads_a_tenant_table_of_the_file(snapshot):
    sql = ("CREATE TABLE billing.invoices (id bigint, tenant_id uuid NOT NULL);\n"
           "CREATE OR REPLACE FUNCTION billing.total() RETURNS numeric\nLANGUAGE plpgsql SECURITY DEFINER\n"
           "SET search_path = pg_catalog, pg_temp\nAS $$ BEGIN RETURN (SELECT sum(total) FROM billing.invoices); END $$;")
    text = assert_flags(sql, RULE, count=1, severity="warning")
    assert "billing.invoices" in text and "search_path can" not in text
    assert text == snapshot


def test_says_when_it_uses_the_tenant_column():
    sql = "CREATE PROCEDURE purge() LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN DELETE FROM x WHERE tenant_id IS NULL; END $$;"
    assert "tenant column tenant_id" in assert_flags(sql, RULE)
    assert "tenant column" not in assert_flags(sql, RULE, tenant_column="org_id")


def test_forms_sqlglot_types():
    # sqlglot types these (and misreads the body after SET as an alias); both must still be seen
    assert_flags("CREATE FUNCTION f() RETURNS int SECURITY DEFINER RETURN 1;", RULE, count=1)
    text = assert_flags("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql SECURITY DEFINER SET search_path TO public "
                        "AS $$ begin return (select count(*) from tenant_notes where tenant_id is not null); end $$;", RULE)
    assert "search_path can" not in text and "tenant column" in text


def test_mixed_case_quoted_schema_in_transaction():
    sql = 'BEGIN;\ncreate function "Api".Me() returns int language sql security   definer as $$ select 1 $$;\nCOMMIT;'
    assert_flags(sql, RULE, count=1)


def test_invoker_do_blocks_and_text_are_clean():
    assert_clean("CREATE FUNCTION f() RETURNS int LANGUAGE sql SECURITY INVOKER AS $$ SELECT 1 $$;", RULE)
    assert_clean("CREATE FUNCTION f() RETURNS int LANGUAGE sql STABLE AS $$ SELECT 1 $$;", RULE)
    assert_clean("-- SECURITY DEFINER\nSELECT 'SECURITY DEFINER';\nDO $$ BEGIN RAISE NOTICE 'SECURITY DEFINER'; END $$;", RULE)
    assert_clean("CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'SECURITY DEFINER' $$;", RULE)
