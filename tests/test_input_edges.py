"""Input edges of issue 10, through the real CLI: each is exit 2 with one clear line (or, for a
defect, exit 5), and nothing reaches production.

NUL bytes, duplicate versions, connection strings that are not PostgreSQL's or carry unescaped
special characters, passwords that must never be printed in any form, pathologically nested
expressions, production pointing at the shadow, multi-line hints and error details.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from migguard.core.findings import Finding, Report, Severity
from migguard.report import text as text_report
from tests.clirun import run_cli

CONFIG = '[tool.migguard]\nmigrations = "db/migrations"\nlock_timeout = "2s"\n'
ACCOUNTS = "SET lock_timeout = '2s';\nCREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text);\n"
# The raw password, as a person would type it: every character a URL or libpq splits at.
PASSWORD = "p@ss:w/rd%40#?"
FORMS = {PASSWORD, quote(PASSWORD, safe=""), quote(PASSWORD), "p@ss", "rd%40", "rd@"}


def run(directory: Path, *args: str, env: dict | None = None, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """`migguard *args` in this process (tests/clirun.py), its streams as bytes as a process gives them."""
    done = run_cli(args, cwd=directory, env={**os.environ, "MIGGUARD_USER": "tester", **(env or {})}, stdin=stdin)
    return subprocess.CompletedProcess(["migguard", *args], done.exit_code, done.stdout_bytes, done.stderr_bytes)


def out(result: subprocess.CompletedProcess) -> str:
    return result.stdout.decode("utf-8", "replace") + result.stderr.decode("utf-8", "replace")


def error_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.decode().strip().splitlines()
    assert lines and lines[-1].startswith("migguard: error: "), result.stderr
    assert "Traceback" not in result.stderr.decode()
    return lines[-1]


@pytest.fixture
def project(tmp_path):
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    (tmp_path / "migguard.toml").write_text(CONFIG)
    (tmp_path / "db" / "migrations" / "0001_accounts.sql").write_text(ACCOUNTS)
    return tmp_path


def everything_written(directory: Path, *results: subprocess.CompletedProcess) -> str:
    texts = [out(r) for r in results]
    for path in directory.rglob("*"):
        texts.append(str(path))
        if path.is_file():
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(texts)


def applied(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass('migguard.schema_migrations')").fetchone()[0] is None:
            return []
        return [r[0] for r in conn.execute("SELECT version FROM migguard.schema_migrations ORDER BY version")]


# --- NUL bytes ------------------------------------------------------------------------------------


def test_nul_byte_is_refused_naming_the_file_offset_and_line(project):
    hidden = b"SET lock_timeout = '2s';\nALTER TABLE accounts ADD COLUMN note text;\x00\nDROP TABLE accounts;\n"
    (project / "db" / "migrations" / "0002_note.sql").write_bytes(hidden)
    result = run(project, "lint")
    assert result.returncode == 2
    line, offset = error_line(result), hidden.index(b"\x00")
    assert "0002_note.sql" in line and f"byte offset {offset}" in line and "(line 2)" in line
    piped = run(project, "lint", "-", "--stdin-filename", "db/migrations/x.sql", stdin=hidden)
    assert piped.returncode == 2 and "x.sql: contains a NUL byte" in error_line(piped)


@pytest.mark.pg
@pytest.mark.e2e
def test_nul_byte_refuses_apply_before_production_is_touched(project, pg, pg_cluster):
    (project / "db" / "migrations" / "0002_note.sql").write_bytes(b"SELECT 1;\x00 DROP TABLE accounts;\n")
    env = {"PG_PROD_URL": pg, "PG_SHADOW_URL": pg_cluster.url()}
    result = run(project, "apply", "--confirm-live", env=env)
    assert result.returncode == 2 and "NUL byte" in error_line(result)
    assert applied(pg) == []
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0


# --- duplicate versions --------------------------------------------------------------------------


def test_two_files_with_one_version_are_refused_at_discovery_naming_both(project):
    """The history keys by version: status, plan and apply refuse; lint, which only reads, lints both."""
    (project / "db" / "migrations" / "0001_other.sql").write_text("SET lock_timeout = '2s';\nCREATE TABLE other (id bigint);\n")
    result = run(project, "status", "--no-drift", env={"PG_PROD_URL": "postgresql://app@db.invalid/prod"})
    assert result.returncode == 2
    line = error_line(result)
    assert "version 0001" in line and "0001_accounts.sql" in line and "0001_other.sql" in line
    linted = run(project, "lint", "--format", "json")
    assert linted.returncode == 0 and json.loads(linted.stdout)["summary"]["files"] == 2


@pytest.mark.pg
@pytest.mark.e2e
def test_duplicate_versions_refuse_plan_and_apply_without_touching_production(project, pg, pg_cluster):
    (project / "db" / "migrations" / "0002_a.sql").write_text("SET lock_timeout = '2s';\nCREATE TABLE a (id bigint);\n")
    (project / "db" / "migrations" / "0002_b.sql").write_text("SET lock_timeout = '2s';\nCREATE TABLE b (id bigint);\n")
    env = {"PG_PROD_URL": pg, "PG_SHADOW_URL": pg_cluster.url()}
    for command in (("plan",), ("apply", "--confirm-live")):
        result = run(project, *command, env=env)
        assert result.returncode == 2, out(result)
        assert "0002_a.sql" in error_line(result) and "0002_b.sql" in error_line(result)
    assert applied(pg) == []
    assert not (project / ".migguard" / "plans").exists()


# --- connection strings --------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://db.internal/prod", "mysql://app:hunter22@db/prod", "garbage",
                                 "postgresql://app:hunter22@db:notaport/prod%zz"])
def test_a_url_that_is_not_postgresql_is_an_input_error(project, url):
    for command in (("status", "--no-drift"), ("plan",), ("apply",)):
        result = run(project, *command, env={"PG_PROD_URL": url})
        assert result.returncode == 2, (command, out(result))
        assert "PG_PROD_URL" in error_line(result) and "hunter22" not in out(result)
    assert not (project / ".migguard").exists()


@pytest.mark.pg
@pytest.mark.e2e
def test_unescaped_password_is_refused_and_never_printed(project, pg, pg_cluster):
    """The password typed into the URL as is: libpq would print its tail as a host name."""
    raw = pg.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")
    env = {"PG_PROD_URL": raw, "PG_SHADOW_URL": pg_cluster.url()}
    results = [run(project, *command, env=env) for command in (("status",), ("plan",), ("apply", "--confirm-live"))]
    for result in results:
        assert result.returncode == 2, out(result)
        assert "percent-encoded" in error_line(result)
    written = everything_written(project, *results)
    assert not [form for form in FORMS if form in written]
    assert applied(pg) == []


@pytest.mark.pg
@pytest.mark.e2e
@pytest.mark.all_majors
def test_encoded_password_with_every_special_character_never_appears(project, pg, pg_cluster):
    """Percent-encoded, the URL is valid (trust authentication ignores the password): status,
    plan, a dry run, a live apply and a failing apply never show it, decoded or encoded."""
    encoded = pg.replace("postgresql://postgres@", f"postgresql://postgres:{quote(PASSWORD, safe='')}@")
    env = {"PG_PROD_URL": encoded, "PG_SHADOW_URL": pg_cluster.url()}
    results = [run(project, "status", env=env), run(project, "plan", env=env), run(project, "apply", env=env)]
    assert [r.returncode for r in results] == [0, 0, 0], [out(r) for r in results]
    live = run(project, "apply", "--confirm-live", env=env)
    assert live.returncode == 0, out(live)
    assert applied(pg) == ["0001"]
    # A failure whose message quotes the connection (a bad host) is redacted too.
    bad_host = encoded.replace("host=", "host=/nonexistent")
    failed = run(project, "status", "--no-drift", env={**env, "PG_PROD_URL": bad_host})
    assert failed.returncode == 3 and "cannot connect" in error_line(failed)
    written = everything_written(project, *results, live, failed)
    assert not [form for form in FORMS if form in written]
    audit = [json.loads(line) for line in (project / ".migguard" / "audit.jsonl").read_text().splitlines()]
    assert audit and all("***" in entry["target"] for entry in audit)


def test_passwords_are_redacted_by_value_in_any_message():
    from migguard.core.redact import redact_text
    from migguard.core.dsn import parse_url

    parse_url(f"postgresql://app:{quote(PASSWORD, safe='')}@db.internal:5432/prod")
    message = f"FATAL: could not translate host name \"{PASSWORD}\"; tried {quote(PASSWORD, safe='')} and {quote(PASSWORD)}"
    redacted = redact_text(message)
    assert not [form for form in (PASSWORD, quote(PASSWORD, safe=""), quote(PASSWORD)) if form in redacted]
    assert redacted.startswith("FATAL: could not translate host name \"***\"")
    parse_url("host=db user=app password='s3cret key' dbname=prod")
    assert redact_text("libpq said: s3cret key") == "libpq said: ***"


# --- nesting -------------------------------------------------------------------------------------

DEEP_WHERE = "DELETE FROM accounts WHERE " + " OR ".join(["id = 1"] * 5000) + ";\n"
DEEP_PARENS = "SELECT " + "(" * 5000 + "1" + ")" * 5000 + ";\n"


def test_deeply_nested_expression_is_an_input_error_in_lint(project):
    (project / "db" / "migrations" / "0002_deep.sql").write_text("SET lock_timeout = '2s';\n" + DEEP_WHERE)
    result = run(project, "lint")
    assert result.returncode == 2, out(result)
    assert "0002_deep.sql" in error_line(result) and "nested too deeply" in error_line(result)
    (project / "db" / "migrations" / "0002_deep.sql").write_text("SET lock_timeout = '2s';\n" + DEEP_PARENS)
    assert run(project, "lint").returncode == 0  # parsed by PostgreSQL's grammar when sqlglot gives up


@pytest.mark.pg
@pytest.mark.e2e
def test_deeply_nested_expression_refuses_plan_before_the_shadow(project, pg, pg_cluster):
    (project / "db" / "migrations" / "0002_deep.sql").write_text("SET lock_timeout = '2s';\n" + DEEP_WHERE)
    result = run(project, "plan", env={"PG_PROD_URL": pg, "PG_SHADOW_URL": pg_cluster.url()})
    assert result.returncode == 2, out(result)
    assert "nested too deeply" in error_line(result)


# --- production on the shadow --------------------------------------------------------------------


@pytest.mark.pg
@pytest.mark.e2e
@pytest.mark.all_majors
def test_production_pointing_at_the_shadow_is_refused(project, pg_cluster):
    shadow = pg_cluster.url()
    with psycopg.connect(shadow) as conn:
        before = conn.execute("SELECT count(*) FROM pg_database").fetchone()[0]
    for command in (("plan",), ("apply", "--confirm-live"), ("status",)):
        result = run(project, *command, env={"PG_PROD_URL": shadow, "PG_SHADOW_URL": shadow})
        assert result.returncode == 2, out(result)
        assert "points at migguard's shadow" in error_line(result)
    with psycopg.connect(shadow) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database").fetchone()[0] == before
        assert conn.execute("SELECT to_regclass('migguard.schema_migrations')").fetchone()[0] is None
        assert conn.execute("SELECT to_regclass('public.accounts')").fetchone()[0] is None


@pytest.mark.pg
@pytest.mark.e2e
def test_another_database_on_the_shadow_server_is_still_production(project, pg, pg_cluster):
    result = run(project, "status", env={"PG_PROD_URL": pg, "PG_SHADOW_URL": pg_cluster.url()})
    assert result.returncode == 0, out(result)


# --- output --------------------------------------------------------------------------------------


def test_multi_line_hint_prints_as_indented_lines():
    finding = Finding(rule="ban-drop-table", severity=Severity.ERROR, path="m.sql", line=1, column=1, end_line=1,
                      end_column=5, statement=0, message="Dropping table t loses its rows.",
                      hint="Do it in two steps:\n1. stop using it\n2. drop it with --allow-destructive")
    rendered = text_report.render(Report(command="lint", ok=False, findings=[finding], sources={}, summary={}))
    assert "\\n" not in rendered
    assert ("  = hint: Do it in two steps:\n          1. stop using it\n"
            "          2. drop it with --allow-destructive\n") in rendered


@pytest.mark.pg
@pytest.mark.e2e
@pytest.mark.all_majors
def test_a_failed_apply_prints_the_undo_sql_as_indented_lines(project, pg, pg_cluster):
    (project / "db" / "migrations" / "0002_note.sql").write_text(
        "SET lock_timeout = '2s';\nALTER TABLE accounts ADD COLUMN note text;\n")
    (project / "db" / "migrations" / "0003_broken.sql").write_text(  # fails on production only
        "SET lock_timeout = '2s';\nSELECT 1 / (CASE WHEN current_database() LIKE 't%' THEN 0 ELSE 1 END);\n")
    result = run(project, "apply", "--confirm-live", env={"PG_PROD_URL": pg, "PG_SHADOW_URL": pg_cluster.url()})
    assert result.returncode == 3, out(result)
    lines = result.stderr.decode().splitlines()
    error = next(i for i, line in enumerate(lines) if line.startswith("migguard: error: "))
    assert "0003" in lines[error] and "division by zero" in lines[error] and "\\n" not in lines[error]
    detail = lines[error + 1:]
    assert detail[0] == "    -- rollback of the migrations that did apply (0001, 0002):"
    assert any("DROP COLUMN note" in line for line in detail) and all(line.startswith("    ") for line in detail)
    assert applied(pg) == ["0001", "0002"]


def test_internal_error_has_its_own_exit_code(project):
    """A defect (here: a TypeError raised inside a command) is exit 5, one line that says so."""
    code = ("import sys, migguard.cli as cli, migguard.lint.engine as lint\n"
            "def broken(*a, **k): raise TypeError('boom')\n"
            "lint.run_lint = broken\n"
            "sys.argv = ['migguard', 'lint']\ncli.main()\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, check=False)
    assert result.returncode == 5
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("migguard: internal error: TypeError: boom")
    assert "--debug" in lines[0] and "Traceback" not in result.stderr
