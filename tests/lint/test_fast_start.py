"""A cold `migguard lint FILE` (a pre-commit hook runs one per commit) and `migguard --help` import only
what they use: never the database driver, the schema differ or the database capabilities; not sqlglot for
a file whose statements PostgreSQL's own tree answers for; and `--help` not even the SQL parsers. Checked
on a real process with `python -X importtime`, which names every module the process imports."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", re.MULTILINE)
# Packages that talk to a database or diff schemas, and multiprocessing (one file is linted in process).
NOT_FOR_LINT = ("psycopg", "psycopg_pool", "psycopg_c", "psycopg_binary", "deepdiff", "migguard.pg",
                "migguard.plan", "migguard.apply", "migguard.drift", "migguard.rls", "migguard.query",
                "migguard.scan", "migguard.schema", "concurrent.futures")
NOT_FOR_HELP = NOT_FOR_LINT + ("sqlglot", "pglast", "pydantic", "migguard.lint", "migguard.sql", "migguard.core.config")


def _imported(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "migguard", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    return done, set(_IMPORTED.findall(done.stderr))


def _offending(modules: set[str], banned: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == b or m.startswith(b + ".") for b in banned))


@pytest.mark.parametrize("report_format", ["text", "json", "sarif"])
def test_lint_of_one_file_imports_no_database_module(tmp_path, report_format):
    """Whatever the report format: a renderer must not pull the database layer in either."""
    (tmp_path / "f.sql").write_text("ALTER TABLE accounts ADD COLUMN note text;\n", encoding="utf-8")
    done, modules = _imported(tmp_path, "lint", "--format", report_format, "f.sql")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "migguard.lint.engine" in modules and "pglast" in modules  # it did lint, in this process
    assert _offending(modules, NOT_FOR_LINT) == []


def test_lint_imports_only_the_rule_modules_of_the_kinds_a_file_holds(tmp_path):
    """An ALTER TABLE and a CREATE INDEX reach the rules that judge every statement and those of their two
    kinds (lint/dispatch.py); the modules of DROP, TRUNCATE, policies … stay unloaded. Without a config file,
    neither the TOML reader nor the finding-id registry is loaded; with no DO block or function, no PL/pgSQL reader."""
    from migguard.lint.dispatch import RULES

    (tmp_path / "one.sql").write_text("ALTER TABLE accounts ADD COLUMN note text;\n"
                                      "CREATE INDEX accounts_note ON accounts (note);\n", encoding="utf-8")
    # -X importtime does not see importlib.import_module: the process prints its sys.modules when the lint ends.
    script = ("import atexit, sys\n"
              "atexit.register(lambda: print('MODULES', ' '.join(sorted(sys.modules)), file=sys.stderr))\n"
              "from migguard.__main__ import main\nmain()\n")
    done = subprocess.run([sys.executable, "-c", script, "lint", "--no-cache", "one.sql"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and "error[require-concurrent-index-creation]" in done.stdout, done.stderr[-2000:]
    modules = set(re.search(r"^MODULES (.*)$", done.stderr, re.MULTILINE).group(1).split())
    loaded = {m.removeprefix("migguard.lint.rules.") for m in modules if m.startswith("migguard.lint.rules.")}
    reached = {rule_id.replace("-", "_") for rule_id, (_, _, has_check, kinds) in RULES.items()
               if has_check and (kinds is None or {"AlterTableStmt", "IndexStmt"} & kinds)}
    assert loaded == reached and "ban_truncate" not in loaded and "ban_drop_table" not in loaded
    assert {"tomllib", "migguard.core.finding_ids", "migguard.sql.plpgsql"} & modules == set()


# Statements PostgreSQL's own tree answers for (parse.Trees, nodes.SHAPES): no rule needs sqlglot's typed tree.
_PLAIN_MIGRATIONS = {
    "concurrent": """SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);
ALTER TABLE accounts DROP COLUMN legacy;
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
DROP INDEX CONCURRENTLY IF EXISTS accounts_old_idx;
""",
    "wrapped": """BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE accounts DROP COLUMN legacy, ALTER COLUMN email SET NOT NULL;
DROP TABLE IF EXISTS accounts_archive;
COMMIT;
""",
}


@pytest.mark.parametrize("migration", sorted(_PLAIN_MIGRATIONS))
def test_lint_of_statements_without_expressions_imports_no_sqlglot(tmp_path, migration):
    """sqlglot (a third of a cold lint's imports) loads only when some statement needs its typed tree; the
    rules still run: the DROP COLUMN is refused. A DEFAULT expression does need it (the control)."""
    (tmp_path / "plain.sql").write_text(_PLAIN_MIGRATIONS[migration], encoding="utf-8")
    default = "ALTER TABLE accounts ADD COLUMN seen timestamptz DEFAULT clock_timestamp();\n"
    (tmp_path / "default.sql").write_text(default, encoding="utf-8")
    done, modules = _imported(tmp_path, "lint", "--no-cache", "--format", "json", "plain.sql")
    assert done.returncode == 1, done.stderr[-2000:]
    assert '"rule": "ban-drop-column"' in done.stdout and "migguard.lint.dispatch" in modules
    assert _offending(modules, NOT_FOR_LINT + ("sqlglot",)) == []
    done, modules = _imported(tmp_path, "lint", "--no-cache", "--format", "json", "default.sql")
    assert done.returncode == 1 and '"rule": "ban-volatile-default"' in done.stdout, done.stderr[-2000:]
    assert "sqlglot" in modules and _offending(modules, NOT_FOR_LINT) == []


def test_help_imports_neither_parsers_nor_database_modules(tmp_path):
    done, modules = _imported(tmp_path, "--help")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "lint" in done.stdout and "migguard.cli.app" in modules
    assert _offending(modules, NOT_FOR_HELP) == []


def test_lint_answered_from_the_cache_imports_neither_parser_nor_rules(tmp_path):
    """The second lint of an unchanged file reads its findings from .migguard/cache: no sqlglot, no pglast,
    no rule registry. The findings are the ones the first run computed."""
    (tmp_path / "migguard.toml").write_text("", encoding="utf-8")
    (tmp_path / "f.sql").write_text("ALTER TABLE accounts DROP COLUMN note;\n", encoding="utf-8")
    first, computed = _imported(tmp_path, "lint", "--format", "json", "f.sql")
    second, modules = _imported(tmp_path, "lint", "--format", "json", "f.sql")
    assert first.returncode == second.returncode == 1, second.stderr[-2000:]  # ban-drop-column refuses
    assert "pglast" in computed and "migguard.lint.dispatch" in computed
    assert _offending(modules, ("sqlglot", "pglast", "migguard.lint.rules", "migguard.lint.rule", "migguard.lint.dispatch",
                                "migguard.lint.directives", "migguard.sql")) == []
    assert second.stdout == first.stdout and "ban-drop-column" in second.stdout
