"""The command line as a user runs it: real files, real exit codes and streams.

Every exit code SPEC section 9 gives `lint` is produced here; every error is one line on stderr
starting with `migguard: error:`, with no traceback. The commands run in this process through
main() (tests/clirun.py: cwd, environment, stdin and both streams as a process has them); the
tests marked "real process" run `python -m migguard` itself, for what only a process shows.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.clirun import run_cli

DROP = "ALTER TABLE accounts DROP COLUMN legacy;\n"
CLEAN = "CREATE TABLE accounts (id bigint PRIMARY KEY);\n"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def error_line(self) -> str:
        """The single error line; fails unless stderr is exactly one `migguard: error:` line."""
        assert "Traceback" not in self.stderr, self.stderr
        lines = self.stderr.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{self.stderr}"
        assert lines[0].startswith("migguard: error: "), lines[0]
        return lines[0]

    def json(self) -> dict:
        return json.loads(self.stdout)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("GITHUB_STEP_SUMMARY", "PG_PROD_URL", "PG_SHADOW_URL") and not k.startswith("GIT_")}
    env.update(extra)
    return env


def migguard(*args: str, cwd: Path, stdin: bytes | str | None = None, **env: str) -> Result:
    """`migguard *args` in this process (tests/clirun.py)."""
    done = run_cli(args, cwd=cwd, env=_env(**env), stdin=stdin)
    return Result(done.exit_code, done.stdout, done.stderr)


def migguard_process(*args: str, cwd: Path, stdin: bytes | str | None = None, **env: str) -> Result:
    """`python -m migguard *args` in a real process: for the smoke tests of what only a process shows."""
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    done = subprocess.run([sys.executable, "-m", "migguard", *args], cwd=cwd, input=data, capture_output=True,
                          env=_env(**env), timeout=120, check=False)
    return Result(done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8"))


# Only the rules these tests are about, so rules added later cannot change their findings.
ONLY = "--select=ban-drop-column,syntax-error"


def lint(*args: str, cwd: Path, **kwargs) -> Result:
    return migguard("lint", ONLY, *args, cwd=cwd, **kwargs)


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


@pytest.fixture
def project(tmp_path) -> Path:
    """A project with a migguard.toml (so the search stops here) and an empty migrations directory."""
    write(tmp_path, {"migguard.toml": "[tool.migguard]\n"})
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    return tmp_path


# --- exit 0 and 1 --------------------------------------------------------------------------------


def test_clean_migrations_exit_0(project):
    write(project, {"db/migrations/0001_init.sql": CLEAN})
    result = lint(cwd=project)
    assert result.code == 0, result.stderr
    assert result.stderr.strip().endswith("gate passes")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("run", [migguard, migguard_process], ids=["in-process", "real-process"])
def test_error_finding_exits_1_with_a_compiler_style_report(project, run):
    write(project, {"db/migrations/0001_init.sql": CLEAN, "db/migrations/0002_drop.sql": DROP})
    result = run("lint", ONLY, cwd=project)
    assert result.code == 1
    assert result.stdout.startswith("db/migrations/0002_drop.sql:1:22: error[ban-drop-column] ")
    assert "gate refused" in result.stderr and "gate refused" not in result.stdout


def test_warning_fails_only_with_strict(project):
    write(project, {"db/migrations/0001_drop.sql": DROP})
    relaxed = lint("--allow-destructive", "--format", "json", cwd=project)
    assert relaxed.code == 0
    assert [(f["rule"], f["severity"]) for f in relaxed.json()["findings"]] == [("ban-drop-column", "warning")]
    strict = lint("--allow-destructive", "--strict", cwd=project)
    assert strict.code == 1


def test_syntax_error_is_a_finding_and_the_rest_is_still_linted(project):
    write(project, {"db/migrations/0001_x.sql": "ALTER TABL accounts ADD COLUMN a int;\n" + DROP})
    result = lint("--format", "json", cwd=project)
    assert result.code == 1
    assert [(f["rule"], f["line"]) for f in result.json()["findings"]] == [("syntax-error", 1), ("ban-drop-column", 2)]


def test_json_report_contract(project):
    write(project, {"db/migrations/0001_drop.sql": DROP})
    document = lint("--format", "json", cwd=project).json()
    assert document["version"] == 1 and document["ok"] is False and document["command"] == "lint"
    assert set(document["findings"][0]) == {"rule", "severity", "path", "line", "column", "end_line", "end_column",
                                            "statement", "message", "hint"}
    assert document["summary"]["files"] == 1 and document["summary"]["errors"] == 1


def test_select_and_ignore(project):
    write(project, {"db/migrations/0001_drop.sql": DROP})
    assert migguard("lint", "--select", "ban-drop-column", cwd=project).code == 1
    assert migguard("lint", "--select", "ban-drop-column", "--ignore", "ban-drop-column", cwd=project).code == 0
    assert migguard("lint", "--select", "syntax-error,unused-ignore", cwd=project).code == 0
    assert migguard("lint", "--select", "destructive", "--ignore", "ban-drop-column", cwd=project).code == 0
    result = migguard("lint", "--select", "destructive", "--format", "json", cwd=project)  # a family name
    assert [f["rule"] for f in result.json()["findings"]] == ["ban-drop-column"]


# --- exit 2: one line on stderr ------------------------------------------------------------------


def test_missing_file(project):
    result = lint("db/migrations/0009_nope.sql", cwd=project)
    assert result.code == 2
    assert result.error_line() == "migguard: error: db/migrations/0009_nope.sql: no such file or directory"
    assert result.stdout == ""


def test_missing_default_migrations_directory(tmp_path):
    write(tmp_path, {"migguard.toml": 'migrations = "sql"\n'})
    result = lint(cwd=tmp_path)
    assert result.code == 2 and "sql: no such file or directory" in result.error_line()


def test_unknown_option(project):
    result = lint("--frobnicate", cwd=project)
    assert result.code == 2
    assert "--frobnicate" in result.error_line()


def test_unknown_config_key_names_key_and_file(project):
    write(project, {"migguard.toml": "[tool.migguard]\nlayuot = \"plain\"\n"})
    result = lint(cwd=project)
    assert result.code == 2
    line = result.error_line()
    assert "'layuot'" in line and str(project / "migguard.toml") in line


def test_bad_config_value_and_bad_toml(project):
    write(project, {"migguard.toml": "pg_version = \"fifteen\"\n"})
    assert "'pg_version'" in lint(cwd=project).error_line()
    write(project, {"migguard.toml": "[tool.migguard\n"})
    result = lint(cwd=project)
    assert result.code == 2 and "invalid TOML" in result.error_line()


def test_explicit_config_option(project):
    write(project, {"db/migrations/0001_drop.sql": DROP, "ci/migguard.toml": '[rules]\nban-drop-column = "off"\n'})
    assert lint("--config", "ci/migguard.toml", "db/migrations", cwd=project).code == 0
    result = lint("--config", "ci/nope.toml", cwd=project)
    assert result.code == 2 and "ci/nope.toml" in result.error_line()


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_unknown_rule_id_on_the_command_line(project, option):
    result = lint(option, "ban-drop-colum", cwd=project)
    assert result.code == 2
    assert "'ban-drop-colum'" in result.error_line()


def test_unknown_rule_id_in_config(project):
    write(project, {"migguard.toml": '[tool.migguard.rules]\nban-drop-colum = "off"\n'})
    result = lint(cwd=project)
    assert result.code == 2
    line = result.error_line()
    assert "'ban-drop-colum'" in line and "migguard.toml" in line


def test_non_utf8_file_names_the_file(project):
    write(project, {"db/migrations/0001_latin1.sql": "SELECT 'café';\n".encode("latin-1")})
    result = lint(cwd=project)
    assert result.code == 2
    assert "db/migrations/0001_latin1.sql: not valid UTF-8" in result.error_line()


def test_unknown_format(project):
    result = lint("--format", "xml", cwd=project)
    assert result.code == 2
    assert "unknown format 'xml'" in result.error_line()
    assert migguard("rules", "--format", "sarif", cwd=project).code == 2


def test_error_with_a_newline_in_a_path_stays_one_line(project):
    result = lint("bad\nname.sql", cwd=project)
    assert result.code == 2
    assert "bad\\nname.sql" in result.error_line()


def test_errors_are_redacted(project):
    result = lint("postgresql://app:hunter2@db/prod", cwd=project)
    assert result.code == 2
    assert "hunter2" not in result.stderr and "postgresql://app:***@db/prod" in result.error_line()


def test_no_arguments_prints_help_and_exits_2(project):
    result = migguard(cwd=project)
    assert result.code == 2 and "Usage:" in result.stderr and result.stdout == ""


# --- --output and stdin --------------------------------------------------------------------------


def test_output_file_gets_the_report_and_stdout_stays_empty(project):
    write(project, {"db/migrations/0001_drop.sql": DROP})
    result = lint("--format", "json", "--output", "reports/lint.json", cwd=project)
    assert result.code == 1
    assert result.stdout == ""
    document = json.loads((project / "reports" / "lint.json").read_text(encoding="utf-8"))
    assert document["findings"][0]["rule"] == "ban-drop-column"


def test_output_file_is_not_written_when_lint_fails(project):
    result = lint("missing.sql", "--output", "report.txt", cwd=project)
    assert result.code == 2
    assert not (project / "report.txt").exists()
    result = lint("--format", "xml", "--output", "report.txt", cwd=project)
    assert result.code == 2 and not (project / "report.txt").exists()


def test_stdin_with_stdin_filename(project):
    result = migguard_process("lint", ONLY, "-", "--stdin-filename", "db/migrations/0042_drop.sql", "--format",
                              "json", cwd=project, stdin=DROP)  # real process: a pipe on its file descriptor 0
    assert result.code == 1
    assert [(f["path"], f["line"]) for f in result.json()["findings"]] == [("db/migrations/0042_drop.sql", 1)]
    result = lint("-", cwd=project, stdin=CLEAN)
    assert result.code == 0


def test_stdin_is_read_like_a_file(project):
    bom = lint("-", "--format", "json", cwd=project, stdin=b"\xef\xbb\xbf" + DROP.encode())
    assert [(f["line"], f["column"]) for f in bom.json()["findings"]] == [(1, 22)]
    dbmate = "-- migrate:up\nSELECT 1;\n-- migrate:down\n" + DROP
    assert lint("-", cwd=project, stdin=dbmate).code == 0  # the down section is not linted
    latin1 = lint("-", "--stdin-filename", "x.sql", cwd=project, stdin="SELECT 'é';".encode("latin-1"))
    assert latin1.code == 2 and "x.sql: not valid UTF-8" in latin1.error_line()


# --- --changed-since -----------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    env = _env(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(project) -> Path:
    """main: 0001 and 0002 (both would fail lint). A branch `feature` is checked out."""
    git(project, "init", "-q", "-b", "main")
    write(project, {
        "db/migrations/0001_init.sql": DROP,
        "db/migrations/0002_accounts.sql": DROP,
        "README.md": "app\n",
    })
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "base")
    git(project, "checkout", "-q", "-b", "feature")
    return project


def linted_paths(result: Result) -> list[str]:
    return sorted({f["path"] for f in result.json()["findings"]})


def test_changed_since_lints_only_changed_migration_files(repo):
    write(repo, {
        "db/migrations/0002_accounts.sql": "-- edited\n" + DROP,  # modified
        "db/migrations/0003_invoices.sql": DROP,  # added
        "scripts/adhoc.sql": DROP,  # changed, but not a migration
        "README.md": "app!\n",  # changed, not SQL
    })
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "head")
    write(repo, {"db/migrations/0004_wip.sql": DROP})  # untracked
    result = lint("--changed-since", "main", "--format", "json", cwd=repo)
    assert result.code == 1, result.stderr
    assert linted_paths(result) == [
        "db/migrations/0002_accounts.sql", "db/migrations/0003_invoices.sql", "db/migrations/0004_wip.sql",
    ]
    assert result.json()["summary"]["files"] == 3


def test_changed_since_with_nothing_changed_passes(repo):
    result = lint("--changed-since", "main", cwd=repo)
    assert result.code == 0, result.stderr
    assert "0 file(s)" in result.stderr


def test_changed_since_with_explicit_paths_and_from_a_subdirectory(repo):
    write(repo, {"db/migrations/0003_invoices.sql": DROP, "db/other/0001_x.sql": DROP})
    result = lint("--changed-since", "main", "--format", "json", "db/other", cwd=repo)
    assert linted_paths(result) == ["db/other/0001_x.sql"]
    # from a subdirectory: the configured migrations directory is still found, paths shown from cwd
    result = lint("--changed-since", "main", "--format", "json", cwd=repo / "db" / "other")
    assert linted_paths(result) == ["../migrations/0003_invoices.sql"]


def test_changed_since_ignores_changes_made_on_the_base_after_the_branch_point(repo):
    write(repo, {"db/migrations/0003_invoices.sql": DROP})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feature work")
    git(repo, "checkout", "-q", "main")
    write(repo, {"db/migrations/0001_init.sql": "-- hotfix on main\n" + DROP})
    git(repo, "commit", "-q", "-am", "main moves on")
    git(repo, "checkout", "-q", "feature")
    result = lint("--changed-since", "main", "--format", "json", cwd=repo)
    assert linted_paths(result) == ["db/migrations/0003_invoices.sql"]


def test_changed_since_unknown_ref_and_outside_git(repo, tmp_path_factory):
    result = lint("--changed-since", "no-such-branch", cwd=repo)
    assert result.code == 2
    assert "unknown git ref 'no-such-branch'" in result.error_line()
    outside = tmp_path_factory.mktemp("nogit")
    write(outside, {"migguard.toml": ""})
    result = lint("--changed-since", "main", cwd=outside, GIT_CEILING_DIRECTORIES=str(outside.parent))
    assert result.code == 2
    assert "not a git repository" in result.error_line()


# --- rules, explain, version ---------------------------------------------------------------------


def test_rules_lists_ids(project):
    result = migguard("rules", cwd=project)
    assert result.code == 0
    ids = [line.split()[0] for line in result.stdout.splitlines()]
    assert {"ban-drop-column", "syntax-error", "unused-ignore", "ignore-without-reason"} <= set(ids)
    assert ids == sorted(ids)
    listed = {rule["id"]: rule for rule in json.loads(migguard("rules", "--format", "json", cwd=project).stdout)}
    assert listed["ban-drop-column"]["severity"] == "error" and listed["ban-drop-column"]["destructive"] is True


def test_explain_prints_the_docs(project):
    result = migguard("explain", "ban-drop-column", cwd=project)
    assert result.code == 0
    assert result.stdout.startswith("# ban-drop-column\n")
    for section in ("## What it does", "## Why it is dangerous", "## Bad", "## Good", "## When it does not fire",
                    "## References"):
        assert section in result.stdout
    unknown = migguard("explain", "ban-everything", cwd=project)
    assert unknown.code == 2 and "'ban-everything'" in unknown.error_line()


def test_version_is_fast(project):
    """Real process: the start-up cost is what is measured, as the CPU time the process used (the
    wall time of one run depends on what else the machine runs; bench/lint_corpus.py times it)."""
    migguard_process("--version", cwd=project)  # warm the file system cache and bytecode
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = migguard_process("--version", cwd=project)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert result.code == 0 and result.stdout.startswith("migguard ")
    assert cpu < 0.3, f"migguard --version used {cpu:.2f}s of CPU (SPEC target 0.3s)"


def test_cli_import_does_not_load_the_heavy_libraries(project):
    heavy = ("sqlglot", "pglast", "psycopg", "pydantic", "deepdiff", "migguard.lint.engine", "migguard.lint.rules")
    code = f"import migguard.cli, sys; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_quiet_and_verbose_global_options(tmp_path):
    (tmp_path / "migguard.toml").write_text('[tool.migguard]\nmigrations = "db"\n')
    (tmp_path / "ok.sql").write_text("SELECT 1;\n")
    quiet = migguard("--quiet", "lint", "--no-cache", "ok.sql", cwd=tmp_path)
    assert quiet.code == 0 and quiet.stderr == ""
    verbose = migguard("--verbose", "--no-color", "lint", "--no-cache", "ok.sql", cwd=tmp_path)
    assert verbose.code == 0 and "config" in verbose.stderr and "migguard.toml" in verbose.stderr
    refused = migguard("--quiet", "lint", "missing.sql", cwd=tmp_path)
    assert refused.code == 2 and refused.stderr.startswith("migguard: error:")
