from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-rule-with-dml"


def test_flags_rule_that_also_deletes(snapshot):
    sql = "CREATE RULE clear_victim AS ON INSERT TO orders DO ALSO DELETE FROM victim;"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_flags_instead_rule_with_several_writes_on_a_qualified_quoted_table(snapshot):
    sql = ('create or replace rule "Swap" as on update to app."Orders" where new.total > 0\n'
           "do instead (update audit set n = n + 1; insert into log values (1); notify orders);")
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_in_a_transaction_and_with_allow_destructive():
    sql = "BEGIN;\nCREATE RULE r AS ON DELETE TO t DO ALSO UPDATE victim SET gone = true;\nCOMMIT;"
    assert_flags(sql, RULE, count=1, severity="warning", allow_destructive=True)


def test_clean_on_rules_that_do_not_write():
    assert_clean("CREATE RULE no_delete AS ON DELETE TO orders DO INSTEAD NOTHING;", RULE)
    assert_clean("CREATE RULE tell AS ON INSERT TO orders DO ALSO NOTIFY orders;", RULE)
    assert_clean("CREATE RULE \"_RETURN\" AS ON SELECT TO v DO INSTEAD SELECT * FROM orders;", RULE)
