"""The CI integrations run as written: the `run:` scripts of action.yml (and the GitLab job's
script) are executed with bash against a real git repository with a base and a head branch,
with the installed CLI; nothing is re-typed here.

The install step (`pip install "$GITHUB_ACTION_PATH"`) and the `uses:` steps (setup-python,
upload-sarif) are GitHub's side and are skipped; the plan needs PostgreSQL and is marked `pg`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
GITLAB = yaml.safe_load((ROOT / "examples" / "ci" / "gitlab-ci.yml").read_text(encoding="utf-8"))

HEADER = "-- migguard:template feature\nSET lock_timeout = '2s';\n"
ACCOUNTS = HEADER + """
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL,
    email text NOT NULL,
    legacy_code varchar(20)
);
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accounts
    USING (tenant_id = current_setting('app.tenant_id')::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
"""
# A warning (prefer-text-field), not an error: the gate passes, and SARIF still has a result.
ADD_NOTE = HEADER + "ALTER TABLE accounts ADD COLUMN note varchar(200);\n"
DROP_EMAIL = HEADER + "ALTER TABLE accounts DROP COLUMN email;\n"
EXPRESSION = re.compile(r"\$\{\{\s*(inputs|steps)\.([A-Za-z0-9_-]+)(?:\.outputs\.([A-Za-z0-9_-]+))?\s*\}\}")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "PG_PROD_URL", "PG_SHADOW_URL")
           and not k.startswith("GIT_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # the installed `migguard`
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    env.update(extra)
    return env


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, env=_env(), capture_output=True, text=True, check=True)
    return done.stdout.strip()


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


@pytest.fixture
def repo(tmp_path) -> Path:
    """main: the config and 0001 (which has a lint warning of its own); branch `feature` adds 0002."""
    repo = tmp_path / "app"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo, {"migguard.toml": "[tool.migguard]\npg_version = 15\n", "db/migrations/0001_accounts.sql": ACCOUNTS,
                 ".gitignore": ".migguard/\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, {"db/migrations/0002_add_note.sql": ADD_NOTE})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "head")
    return repo


def run_action(repo: Path, inputs: dict[str, str], *, steps: tuple[str, ...] = ("lint", "plan", None),
               **env: str) -> dict:
    """Run the action's `run:` steps in order, as GitHub runs a composite action's bash steps;
    returns each step's exit code and outputs, and the job summary."""
    values = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    values.update(inputs)
    outputs: dict[str, dict[str, str]] = {}
    results: dict = {"codes": {}, "stderr": {}}
    summary = repo.parent / "step-summary.md"
    summary.write_text("", encoding="utf-8")

    def substitute(text: str) -> str:
        def value(match: re.Match) -> str:
            kind, name, key = match.groups()
            return values[name] if kind == "inputs" else outputs.get(name, {}).get(key, "")
        return EXPRESSION.sub(value, str(text))

    for step in ACTION["runs"]["steps"]:
        if "run" not in step or step.get("name") == "Install migguard" or step.get("id") not in steps:
            continue
        assert "${{" not in step["run"], "inputs reach the script through env:, never inline (script injection)"
        output_file = repo.parent / f"output-{step.get('id')}"
        output_file.write_text("", encoding="utf-8")
        step_env = {key: substitute(value) for key, value in (step.get("env") or {}).items()}
        cwd = repo / substitute(step.get("working-directory", "."))
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=cwd,
                              env=_env(GITHUB_OUTPUT=str(output_file), GITHUB_STEP_SUMMARY=str(summary),
                                       **step_env, **env),
                              capture_output=True, text=True, timeout=600, check=False)
        outputs[step.get("id")] = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
        results["codes"][step.get("id")] = done.returncode
        results["stderr"][step.get("id")] = done.stderr
        results.setdefault("stdout", {})[step.get("id")] = done.stdout
    results["outputs"] = outputs
    results["summary"] = summary.read_text(encoding="utf-8")
    return results


def sarif_results(path: Path) -> list[dict]:
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["version"] == "2.1.0"
    return [result for run in document["runs"] for result in run["results"]]


def result_paths(results: list[dict]) -> set[str]:
    return {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}


# --- the action's lint step (no database) --------------------------------------------------------


def test_action_lint_writes_sarif_for_the_changed_file_only(repo):
    run = run_action(repo, {"base-ref": "main"}, steps=("lint",))
    assert run["codes"]["lint"] == 0, run["stderr"]["lint"]
    assert run["outputs"]["lint"] == {"exit-code": "0", "sarif": "true"}
    results = sarif_results(repo / "migguard.sarif")
    assert results, "the changed migration has a warning: SARIF must carry it"
    assert result_paths(results) == {"db/migrations/0002_add_note.sql"}  # 0001's own warning is not linted
    assert {r["ruleId"] for r in results} == {"prefer-text-field"}
    # the log format (github annotations) went to the job log
    assert "::warning file=db/migrations/0002_add_note.sql" in run["stdout"]["lint"]


def test_action_lint_exit_code_is_collected_not_raised(repo):
    write(repo, {"db/migrations/0003_drop_email.sql": DROP_EMAIL})  # untracked: part of the change too
    run = run_action(repo, {"base-ref": "main", "format": "none"}, steps=("lint",))
    assert run["codes"]["lint"] == 0  # the step itself succeeds, so the SARIF upload still runs
    assert run["outputs"]["lint"]["exit-code"] == "1"
    results = sarif_results(repo / "migguard.sarif")
    assert result_paths(results) == {"db/migrations/0002_add_note.sql", "db/migrations/0003_drop_email.sql"}
    assert any(r["ruleId"] == "ban-drop-column" and r["level"] == "error" for r in results)
    assert run["stdout"]["lint"] == ""  # format none: nothing but the SARIF file


def test_action_lint_with_a_bad_base_ref_is_a_usage_error(repo):
    run = run_action(repo, {"base-ref": "no-such-branch"}, steps=("lint",))
    assert run["outputs"]["lint"]["exit-code"] == "2"
    assert "unknown git ref 'no-such-branch'" in run["stderr"]["lint"]


def test_action_lint_without_a_base_ref_fails_the_step(repo):
    run = run_action(repo, {"base-ref": ""}, steps=("lint",))
    assert run["codes"]["lint"] == 2 and "set the base-ref input" in run["stdout"]["lint"]


def test_action_lint_in_a_working_directory_with_explicit_migrations(tmp_path, repo):
    run = run_action(repo, {"base-ref": "main", "migrations": "db/migrations", "working-directory": "."},
                     steps=("lint",))
    assert run["outputs"]["lint"]["exit-code"] == "0"
    assert result_paths(sarif_results(repo / "migguard.sarif")) == {"db/migrations/0002_add_note.sql"}


def test_action_metadata():
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) == {"migrations", "base-ref", "format", "working-directory", "python-version"}
    uses = [step["uses"].split("@")[0] for step in ACTION["runs"]["steps"] if "uses" in step]
    assert uses == ["actions/setup-python", "github/codeql-action/upload-sarif"]
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"


# --- the whole action, with the plan (PostgreSQL) -------------------------------------------------


@pytest.mark.pg
def test_action_passes_a_safe_change_and_summarises_the_plan(repo, pg_cluster):
    run = run_action(repo, {"base-ref": "main"}, PG_SHADOW_URL=pg_cluster.url())
    assert run["outputs"]["lint"]["exit-code"] == "0"
    assert run["outputs"]["plan"]["exit-code"] == "0", run["stderr"]["plan"]
    summary = run["summary"]
    # with --format github, lint's own report is in the summary first; then the plan's
    assert summary.startswith("## ✅ migguard lint: gate passes")
    plan = summary[summary.index("## ✅ migguard plan: gate passes"):]
    assert "- target: git:main" in plan and "- applied: 1" in plan and "- pending: 0002" in plan
    assert "- changes: add column public.accounts.note" in plan and "- rollback\\_verified: True" in plan
    assert run["codes"][None] == 0, run["stdout"][None]


@pytest.mark.pg
def test_action_fails_the_job_with_the_gate_exit_code(repo, pg_cluster):
    write(repo, {"db/migrations/0003_drop_email.sql": DROP_EMAIL})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "drop")
    run = run_action(repo, {"base-ref": "main", "format": "none"}, PG_SHADOW_URL=pg_cluster.url())
    assert run["outputs"]["lint"]["exit-code"] == "1"
    assert run["outputs"]["plan"]["exit-code"] == "1"
    assert run["summary"].startswith("\n## ❌ migguard plan: gate refused")  # format none: the plan only
    assert "ban-drop-column" in run["summary"]
    assert run["codes"][None] == 1
    assert "the migration gate refused (lint exit 1, plan exit 1)" in run["stdout"][None]


@pytest.mark.pg
def test_gitlab_job_script(repo, pg_cluster):
    """The GitLab job's script, minus the install and fetch lines, in one shell as the runner runs it."""
    write(repo, {"db/migrations/0003_drop_email.sql": DROP_EMAIL})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "drop")
    job = GITLAB["migguard"]
    assert all(isinstance(line, str) for line in job["script"]), "a script line YAML reads as a mapping"
    lines = [line for line in job["script"] if not line.startswith(("python -m pip install", "git fetch"))]
    script = "set -eo pipefail\n" + "\n".join(lines) + "\n"
    done = subprocess.run(["bash", "--noprofile", "--norc", "-c", script], cwd=repo, capture_output=True, text=True,
                          env=_env(PG_SHADOW_URL=pg_cluster.url(), CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main",
                                   CI_MERGE_REQUEST_DIFF_BASE_SHA=git(repo, "rev-parse", "main")),
                          timeout=600, check=False)
    assert done.returncode == 1, done.stderr
    assert "lint exit 1, plan exit 1" in done.stdout
    issues = json.loads((repo / "gl-code-quality-report.json").read_text(encoding="utf-8"))
    assert {i["location"]["path"] for i in issues} == {"db/migrations/0002_add_note.sql",
                                                        "db/migrations/0003_drop_email.sql"}
    assert any(i["check_name"] == "ban-drop-column" and i["severity"] == "critical" for i in issues)
    assert result_paths(sarif_results(repo / "migguard.sarif")) == {i["location"]["path"] for i in issues}
    assert (repo / "migguard-plan.md").read_text(encoding="utf-8").startswith("## ❌ migguard plan")
    assert set(job["artifacts"]["paths"]) == {"migguard.sarif", "migguard-plan.md"}
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"


# --- pre-commit ----------------------------------------------------------------------------------


def test_pre_commit_hook_selects_forward_migrations_and_runs_lint(repo):
    (hook,) = HOOKS
    assert hook["id"] == "migguard-lint" and hook["language"] == "python" and hook["entry"] == "migguard lint"
    files, exclude = re.compile(hook["files"]), re.compile(hook["exclude"])

    def selected(path: str) -> bool:
        return bool(files.search(path)) and not exclude.search(path)

    assert selected("db/migrations/0002_add_note.sql") and selected("db/seeds/0001_plans.sql")
    assert selected("db/migrations/2024-01-01-000000_x/up.sql") and selected("db/migrations/V3__x.sql")
    for path in ("db/migrations/0001_x/down.sql", "db/migrations/000001_x.down.sql", "db/migrations/U3__x.sql",
                 "src/queries/report.sql", "scripts/db/migrations/x.sql"):
        assert not selected(path), path
    # pre-commit appends the staged file names to the entry
    done = subprocess.run([*hook["entry"].split(), "db/migrations/0002_add_note.sql"], cwd=repo, env=_env(),
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "prefer-text-field" in done.stdout
