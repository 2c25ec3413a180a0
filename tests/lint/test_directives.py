"""`-- migguard:ignore` and `-- migguard:ignore-file` comments, end to end through lint_text."""

from __future__ import annotations

from migguard.core.findings import Severity
from migguard.lint.context import LintSettings
from migguard.lint.directives import Directive, find_directives, target_statements
from migguard.lint.engine import RulePolicy, lint_text

DROP_A = "ALTER TABLE accounts DROP COLUMN a;"
DROP_B = "ALTER TABLE invoices DROP COLUMN b;"
BAD_SYNTAX = "ALTER TABL accounts ADD COLUMN c int;"


# Only the rules these tests are about, so rules added later cannot change their findings.
ONLY = ("ban-drop-column", "syntax-error", "unused-ignore", "ignore-without-reason")


def policy(**options: object) -> RulePolicy:
    return RulePolicy.build(select=ONLY, **options)


def lint(sql: str, **options: object) -> list[tuple[str, int, str]]:
    findings = lint_text("m.sql", sql, LintSettings(), policy(**options))
    return [(f.rule, f.line, f.severity.value) for f in findings]


def rules(sql: str) -> list[str]:
    return [rule for rule, _, _ in lint(sql)]


# --- parsing the comment -------------------------------------------------------------------------


def test_find_directives_parses_ids_reason_and_kind():
    text = (
        "-- migguard:ignore-file syntax-error\n"
        "SELECT 1; -- MigGuard:Ignore ban-drop-column,  ban-truncate -- backup taken -- by apply\n"
        "--migguard:ignore ban-drop-table\n"
    )
    assert find_directives(text) == [
        Directive(1, 1, ("syntax-error",), None, True),
        Directive(2, 11, ("ban-drop-column", "ban-truncate"), "backup taken -- by apply", False),
        Directive(3, 1, ("ban-drop-table",), None, False),
    ]
    assert find_directives("SELECT 1; -- an ordinary comment\n") == []


def test_target_is_the_statement_on_the_line_or_the_next_one():
    spans = [(1, 1), (3, 5), (7, 7)]
    directive = lambda line: Directive(line, 1, ("x",), None, False)  # noqa: E731
    assert target_statements(directive(1), spans) == (0,)
    assert target_statements(directive(2), spans) == (1,)  # line before
    assert target_statements(directive(5), spans) == (1,)  # trailing comment after a multi-line statement
    assert target_statements(directive(6), spans) == (2,)
    assert target_statements(directive(8), spans) == ()
    assert target_statements(directive(1), [(1, 1), (1, 1)]) == (0, 1)  # two statements on one line


# --- silencing -----------------------------------------------------------------------------------


def test_unsilenced_baseline():
    assert lint(f"{DROP_A}\n{DROP_B}\n") == [("ban-drop-column", 1, "error"), ("ban-drop-column", 2, "error")]


def test_ignore_on_the_line_before_silences_only_the_next_statement():
    sql = f"-- migguard:ignore ban-drop-column -- column unused since 2024.06\n{DROP_A}\n{DROP_B}\n"
    assert lint(sql) == [("ban-drop-column", 3, "error")]


def test_ignore_on_the_same_line_silences_that_statement_only():
    sql = f"{DROP_A} -- migguard:ignore ban-drop-column -- unused since 2024.06\n{DROP_B}\n"
    assert lint(sql) == [("ban-drop-column", 2, "error")]


def test_trailing_ignore_on_a_multi_line_statement_does_not_leak_to_the_next():
    sql = (
        "ALTER TABLE accounts\n"
        "  DROP COLUMN a; -- migguard:ignore ban-drop-column -- unused since 2024.06\n"
        f"{DROP_B}\n"
    )
    assert lint(sql) == [("ban-drop-column", 3, "error")]


def test_one_ignore_can_name_several_rules():
    sql = (
        "-- migguard:ignore syntax-error, ban-drop-column -- both reviewed\n"
        f"{BAD_SYNTAX}\n"
        "-- migguard:ignore syntax-error, ban-drop-column -- both reviewed\n"
        f"{DROP_A}\n"
    )
    # each directive silences one of its rules; the other id silences nothing on that statement
    assert rules(sql) == ["unused-ignore", "unused-ignore"]
    # a trailing comment covers every statement on its line
    sql = f"{DROP_A} {BAD_SYNTAX} -- migguard:ignore ban-drop-column, syntax-error -- reviewed\n{DROP_B}\n"
    assert lint(sql) == [("ban-drop-column", 2, "error")]


def test_ignore_file_silences_every_finding_of_the_rule():
    sql = f"-- migguard:ignore-file ban-drop-column -- legacy columns, archived by the export job\n{DROP_A}\n{DROP_B}\n{BAD_SYNTAX}\n"
    assert rules(sql) == ["syntax-error"]


def test_non_destructive_rule_needs_no_reason():
    assert lint(f"-- migguard:ignore syntax-error\n{BAD_SYNTAX}\n") == []


# --- reasons and stale ignores -------------------------------------------------------------------


def test_destructive_rule_without_reason_is_not_silenced_and_is_reported():
    sql = f"-- migguard:ignore ban-drop-column\n{DROP_A}\n"
    assert lint(sql) == [("ignore-without-reason", 1, "warning"), ("ban-drop-column", 2, "error")]
    sql = f"-- migguard:ignore ban-drop-column --   \n{DROP_A}\n"  # an empty reason is no reason
    assert rules(sql) == ["ignore-without-reason", "ban-drop-column"]


def test_ignore_file_of_a_destructive_rule_needs_a_reason_too():
    assert rules(f"-- migguard:ignore-file ban-drop-column\n{DROP_A}\n") == ["ignore-without-reason", "ban-drop-column"]


def test_unknown_rule_id_is_unused_ignore():
    sql = f"-- migguard:ignore ban-drop-colum -- typo\n{DROP_A}\n"
    findings = lint_text("m.sql", sql, LintSettings(), policy())
    assert [(f.rule, f.line) for f in findings] == [("unused-ignore", 1), ("ban-drop-column", 2)]
    assert "'ban-drop-colum'" in findings[0].message and "not a rule id" in findings[0].message


def test_ignore_that_silences_nothing_is_unused_ignore():
    findings = lint_text("m.sql", "-- migguard:ignore ban-drop-column -- why\nSELECT 1;\n", LintSettings(),
                         policy())
    assert [(f.rule, f.line, f.severity) for f in findings] == [("unused-ignore", 1, Severity.WARNING)]
    assert "silences nothing" in findings[0].message


def test_ignore_of_a_disabled_rule_is_not_reported_as_unused():
    sql = f"-- migguard:ignore ban-drop-column -- why\n{DROP_A}\n"
    assert lint(sql, ignore=("ban-drop-column",)) == []


def test_meta_findings_follow_the_policy():
    sql = f"-- migguard:ignore ban-drop-column\n{DROP_A}\n-- migguard:ignore nope\nSELECT 1;\n"
    assert rules(sql) == ["ignore-without-reason", "ban-drop-column", "unused-ignore"]
    assert lint(sql, ignore=("ignore-without-reason", "unused-ignore")) == [("ban-drop-column", 2, "error")]
