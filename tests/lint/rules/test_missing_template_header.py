import pytest

from tests.lint.lintkit import DEFAULT_WRITE_PATHS, assert_clean, assert_flags

RULE = "missing-template-header"
BODY = "SET lock_timeout = '2s';\nALTER TABLE invoices ADD COLUMN note text;\n"
MIGRATION = {"path": "db/migrations/0007_note.sql", "write_paths": DEFAULT_WRITE_PATHS}
SEED = {"path": "db/seeds/0001_plans.sql", "write_paths": DEFAULT_WRITE_PATHS}


def test_flags_a_migration_without_the_header(snapshot):
    rendered = assert_flags(BODY, RULE, count=1, severity="warning", **MIGRATION)
    assert rendered == snapshot
    assert "db/migrations/0007_note.sql:1:1: warning[missing-template-header]" in rendered
    assert "--template feature" in rendered


def test_a_seed_is_told_to_use_the_seed_template():
    assert "--template seed" in assert_flags(BODY, RULE, **SEED)


@pytest.mark.parametrize("header", [
    "-- migguard:template feature",
    "-- migguard:template seed",
    "--migguard:template feature",
    "-- MIGGUARD:TEMPLATE Feature",
    "-- migguard:template feature   ",
])
def test_clean_with_the_header(header):
    assert_clean(f"{header}\n{BODY}", RULE, **MIGRATION)
    assert_clean(f"{header}\n{BODY}", RULE, **SEED)


def test_blank_lines_before_the_header_are_allowed():
    assert_clean(f"\n   \n-- migguard:template feature\n{BODY}", RULE, **MIGRATION)


def test_dbmate_up_section_as_lint_sees_it():
    # lint blanks everything before `-- migrate:up`, the marker line included
    assert_clean(" " * 13 + "\n-- migguard:template feature\n" + BODY, RULE, **MIGRATION)


@pytest.mark.parametrize("sql", [
    "-- a comment first\n-- migguard:template feature\n" + BODY,
    BODY + "-- migguard:template feature\n",
    "SET lock_timeout = '2s'; -- migguard:template feature\nALTER TABLE invoices ADD COLUMN note text;\n",
    "BEGIN;\n-- migguard:template feature\nALTER TABLE invoices ADD COLUMN note text;\nCOMMIT;\n",
])
def test_the_header_must_be_the_first_line(sql):
    assert_flags(sql, RULE, count=1, **MIGRATION)


def test_an_unknown_template_name_is_named():
    rendered = assert_flags("-- migguard:template hotfix\n" + BODY, RULE, **MIGRATION)
    assert "template 'hotfix'" in rendered


def test_outside_the_write_paths_the_other_rule_reports_it():
    assert_clean(BODY, RULE, path="scripts/hotfix.sql", write_paths=DEFAULT_WRITE_PATHS)
    assert_flags(BODY, "migration-outside-write-path", path="scripts/hotfix.sql", write_paths=DEFAULT_WRITE_PATHS)


def test_silent_without_a_project_configuration():
    assert_clean(BODY, RULE, path="db/migrations/0007_note.sql")


def test_silent_for_a_file_without_statements():
    assert_clean("-- just notes\n", RULE, **MIGRATION)


def test_severity_can_be_configured_down_for_older_migrations():
    from migguard.lint.context import LintSettings
    from migguard.lint.engine import RulePolicy, lint_text

    policy = RulePolicy.build({"missing-template-header": "info"})
    findings = lint_text(MIGRATION["path"], BODY, LintSettings(write_paths=DEFAULT_WRITE_PATHS), policy)
    assert [(f.rule, f.severity.value) for f in findings if f.rule == RULE] == [(RULE, "info")]
