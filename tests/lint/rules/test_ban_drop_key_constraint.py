from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-drop-key-constraint"


def test_flags_default_unique_name(snapshot):
    assert assert_flags("ALTER TABLE accounts DROP CONSTRAINT accounts_email_key;", RULE, count=1,
                        severity="error") == snapshot


def test_flags_default_primary_key_name(snapshot):
    sql = 'alter table only "Billing".invoices drop constraint if exists invoices_pkey cascade;'
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_names_that_say_unique_or_primary():
    sql = ("ALTER TABLE a DROP CONSTRAINT a_email_unique, DROP CONSTRAINT uniq_a_slug, DROP CONSTRAINT uq_a_x,\n"
           "  DROP CONSTRAINT pk_a, DROP CONSTRAINT \"A_pkey\";")
    assert_flags(sql, RULE, count=5)


def test_key_created_in_the_file_under_any_name():
    sql = ("CREATE TABLE t (id int CONSTRAINT t_ident PRIMARY KEY, e text CONSTRAINT t_e UNIQUE,\n"
           "  CONSTRAINT t_pair UNIQUE (id, e));\n"
           "ALTER TABLE t DROP CONSTRAINT t_ident, DROP CONSTRAINT t_e, DROP CONSTRAINT t_pair;")
    assert_flags(sql, RULE, count=3, severity="info")


def test_key_added_earlier_in_the_file_is_info():
    sql = ("ALTER TABLE accounts ADD CONSTRAINT accounts_handle UNIQUE (handle);\n"
           "ALTER TABLE accounts DROP CONSTRAINT accounts_handle;")
    assert_flags(sql, RULE, count=1, severity="info")
    sql = ("ALTER TABLE accounts ADD CONSTRAINT accounts_handle UNIQUE USING INDEX accounts_handle_idx;\n"
           "ALTER TABLE accounts DROP CONSTRAINT accounts_handle;")
    assert_flags(sql, RULE, count=1, severity="info")


def test_mixed_case_in_explicit_transaction_and_allow_destructive():
    sql = "BEGIN;\nAlter Table Accounts Drop Constraint Accounts_Pkey;\nCOMMIT;"
    assert_flags(sql, RULE, count=1, severity="warning", allow_destructive=True)


def test_clean_on_foreign_keys_checks_and_unknown_names():
    sql = ("ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey;\n"
           "ALTER TABLE orders DROP CONSTRAINT orders_total_check;\n"
           "ALTER TABLE orders DROP CONSTRAINT IF EXISTS legacy_rule;")
    assert_clean(sql, RULE)


def test_clean_when_the_file_created_it_as_something_else():
    sql = ("ALTER TABLE a ADD CONSTRAINT a_unique_ish CHECK (x > 0);\n"
           "ALTER TABLE a DROP CONSTRAINT a_unique_ish;")
    assert_clean(sql, RULE)


def test_text_in_comments_and_strings():
    assert_clean("-- ALTER TABLE a DROP CONSTRAINT a_pkey;\nSELECT 'ALTER TABLE a DROP CONSTRAINT a_pkey';", RULE)
