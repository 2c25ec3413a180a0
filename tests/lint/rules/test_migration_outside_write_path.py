import os

import pytest

from tests.lint.lintkit import DEFAULT_WRITE_PATHS, assert_clean, assert_flags, lint_sql

RULE = "migration-outside-write-path"
SQL = "SET lock_timeout = '2s';\nALTER TABLE invoices ADD COLUMN note text;\n"
PROJECT = {"write_paths": DEFAULT_WRITE_PATHS}


def test_flags_a_file_outside_the_write_paths(snapshot):
    rendered = assert_flags(SQL, RULE, count=1, severity="warning", path="scripts/hotfix.sql", **PROJECT)
    assert rendered == snapshot
    assert rendered.startswith("scripts/hotfix.sql:1:1: warning[migration-outside-write-path] ")


@pytest.mark.parametrize("path", [
    "db/migrations/0001_init.sql",
    "db/seeds/0001_plans.sql",
    "db/migrations/2024/0001_nested.sql",
    "db/migrations/0001_x/up.sql",
    "./db/migrations/0001_init.sql",
    os.path.abspath("db/migrations/0001_init.sql"),
])
def test_clean_inside_the_write_paths(path):
    assert_clean(SQL, RULE, path=path, **PROJECT)


@pytest.mark.parametrize("path", [
    "db/migrations/../hotfix.sql",  # `..` is folded before comparing
    "db/migrations_old/0001_init.sql",  # a prefix of the name is not the directory
    "db/0001_init.sql",
    "migration.sql",
    "/tmp/0001_init.sql",
])
def test_flags_paths_that_only_look_close(path):
    assert_flags(SQL, RULE, path=path, **PROJECT)


def test_configured_write_paths_relative_to_the_working_directory():
    paths = ("../app/sql/migrations", "../app/sql/seeds")
    assert_clean(SQL, RULE, path="../app/sql/migrations/0003_x.sql", write_paths=paths)
    assert_flags(SQL, RULE, path="db/migrations/0003_x.sql", write_paths=paths)


def test_silent_without_a_project_configuration():
    assert_clean(SQL, RULE, path="scripts/hotfix.sql")


def test_silent_for_stdin_without_a_file_name():
    assert_clean(SQL, RULE, path="<stdin>", **PROJECT)


def test_silent_for_a_file_without_statements():
    assert_clean("-- nothing yet\n", RULE, path="scripts/hotfix.sql", **PROJECT)


def test_a_file_with_a_syntax_error_is_still_placed():
    assert_flags("ALTER TABL x;\n", RULE, path="scripts/hotfix.sql", **PROJECT)


def test_file_level_ignore_silences():
    sql = "-- migguard:ignore-file migration-outside-write-path -- one-off, run by the DBA\n" + SQL
    assert_clean(sql, RULE, path="scripts/hotfix.sql", **PROJECT)
    assert not [f for f in lint_sql(sql, path="scripts/hotfix.sql", **PROJECT) if f.rule == "unused-ignore"]
