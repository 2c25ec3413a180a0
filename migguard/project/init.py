"""`migguard init`: the files a project needs to start using migguard.

Writes a `migguard.toml` with every key of the configuration commented out at its default, the
write paths (`db/migrations/`, `db/seeds/`), `vault/.env.example` (placeholders only: a real
secret is never written), a GitHub Actions workflow, and a pre-commit hook; appends `vault/.env`
and `.migguard/` to `.gitignore`. Files it owns are never overwritten without `--force` (the
refusal names them and nothing is written); an existing `.pre-commit-config.yaml` is never
touched: the entry to add is printed instead.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from migguard import __version__
from migguard.core.config import Config, _has_tool_table
from migguard.core.errors import InputError
from migguard.project.new import write_path

# Every configuration key with what it means (SPEC section 2); a test checks this covers Config.
KEY_COMMENTS: dict[str, str] = {
    "migrations": "where migrations live (write-path policy: `migguard new` writes only here)",
    "seeds": "where seed files live (`migguard new NAME --template seed`)",
    "layout": "auto | plain | flyway | updown | dbmate",
    "pg_version": "target major version, used by version-aware rules",
    "tenant_column": "a table with this column is multi-tenant",
    "tenant_setting": "GUC the app sets per request; policies must read it",
    "app_roles": "roles the application connects as (must not bypass RLS)",
    "env_file": "where PG_PROD_URL / PG_SHADOW_URL are read from when not in the environment",
    "lock_timeout": "applied by `apply` to every migration",
    "statement_timeout": "applied by `apply` to every migration",
    "max_lock_timeout": "the longest lock_timeout a migration may set itself (unset: lock_timeout)",
    "max_statement_timeout": "the longest statement_timeout a migration may set itself (unset: statement_timeout)",
    "lock_retries": "retries with exponential backoff and jitter when lock_timeout fires",
    "lockdown_after": "refused live operations within 15 minutes before live runs are locked",
    "backup_dir": "where `apply` writes backups (production data: keep it out of git)",
    "plan_dir": "where `plan` writes plans",
    "audit_log": "hash-chained audit log of live operations and refusals",
    "history_table": "the migration history in production",
    "assume_in_transaction": "one transaction per migration, except a file with CONCURRENTLY (statement by statement)",
    "watch_queries": "optional: SQL file of queries whose EXPLAIN plans `plan` compares",
}
_EXAMPLES = {"watch_queries": "db/watch_queries.sql", "max_lock_timeout": "5s", "max_statement_timeout": "1h"}  # keys without a default: a commented example
_IGNORED = ("vault/.env", ".migguard/")
_IGNORE_VARIANTS = {
    "vault/.env": {"vault/.env", "/vault/.env", "**/vault/.env"},
    ".migguard/": {".migguard", ".migguard/", "/.migguard", "/.migguard/", "**/.migguard/"},
}


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a TOML basic string for the values migguard has


def config_text() -> str:
    """migguard.toml with every key commented out at its default, each with its meaning."""
    defaults = Config()
    lines = [
        "# migguard configuration: see the README's configuration reference and `migguard --help`.",
        "# Every key is shown at its default: uncomment a line to change it. Secrets never go here:",
        "# PG_PROD_URL and PG_SHADOW_URL come from the environment or env_file (vault/.env).",
        "[tool.migguard]",
    ]
    for key, comment in KEY_COMMENTS.items():
        value = getattr(defaults, key)
        shown = _toml_value(_EXAMPLES[key] if value is None else value)
        lines.append(f"# {key} = {shown}".ljust(48) + f"# {comment}")
    lines += [
        "",
        "[tool.migguard.rules]",
        "# Per rule id: off | info | warning | error (see `migguard rules`). For example:",
        '# prefer-text-field = "off"',
        '# missing-template-header = "info"          # while older migrations predate the templates',
        "",
        "[tool.migguard.rls]",
        "# Tables the RLS audit skips; give each a reason in a comment beside it.",
        '# exempt_tables = ["public.tenants"]        # the tenant registry itself',
        "",
        "[tool.migguard.scan]",
        "# The tenant tables `migguard scan-app` monitors, when the migrations do not create them. Unset, it",
        "# reads them from the migrations, else from production's catalog (PG_PROD_URL).",
        '# tables = ["public.invoices", "public.customers"]',
        "",
        "# Many databases, or one schema per tenant (README \"Fleets\"): uncomment the table with its targets,",
        "# the environment or env_file keys holding their URLs (never the URLs). For example:",
        "# [tool.migguard.fleet]",
        '# canary = ["eu-small"]',
        "# wave_size = 20",
        '# targets = { eu-small = "PG_EU_SMALL_URL", us-1 = "PG_US_1_URL" }',
        '# tenant_schemas = { url_env = "PG_TENANTS_URL", pattern = "tenant\\\\_%" }',
        "",
        "[tool.migguard.accept]",
        "# Plan findings `apply --confirm-live` may proceed despite: finding id = the reason (required).",
        "# Each acceptance is printed and recorded in the audit log. For example:",
        '# observed-blocking-lock = "maintenance window agreed for the invoices rewrite"',
        "",
    ]
    return "\n".join(lines)


ENV_EXAMPLE = """\
# Connection strings for migguard. Copy this file to vault/.env (which is gitignored) and fill in
# real values there; never commit them. migguard reads the environment first, then vault/.env,
# and redacts passwords in everything it prints, logs or audits.
#
# Production: migguard only reads it, except `apply` / `rollback` with --confirm-live.
PG_PROD_URL=postgresql://migguard_reader:CHANGE_ME@db.example.invalid:5432/app
# Shadow: a scratch server where migguard creates and drops databases. Left out (as here),
# migguard starts a PostgreSQL of its own for each command, or uses the one `migguard shadow start`
# keeps. Set it only when you run a scratch server yourself (a role that may CREATE DATABASE,
# never production), then remove the leading "# ":
# PG_SHADOW_URL=postgresql://postgres:CHANGE_ME@localhost:5432/postgres
"""


def _files_pattern(config: Config) -> str:
    dirs = "|".join(re.escape(Path(d).as_posix().strip("/")) for d in (config.migrations, config.seeds))
    return f"^({dirs})/.*\\.sql$"


def precommit_entry(config: Config) -> str:
    """The pre-commit hook (a `local` one: it runs the migguard installed in the environment)."""
    return f"""\
  - repo: local
    hooks:
      - id: migguard-lint
        name: migguard lint
        entry: migguard lint
        language: system
        files: {_files_pattern(config)}
        exclude: (^|/)(down\\.sql|[^/]*\\.down\\.sql|U[^/]*__[^/]*\\.sql)$  # down scripts are not forward migrations
        require_serial: true
"""


def precommit_text(config: Config) -> str:
    return ("# pre-commit (https://pre-commit.com): `pre-commit install`, then migguard lints every\n"
            "# migration and seed file before it is committed.\nrepos:\n" + precommit_entry(config))


def workflow_text(config: Config) -> str:
    """A GitHub Actions workflow: the same steps as migguard's composite action (action.yml)."""
    paths = ", ".join(json.dumps(f"{Path(d).as_posix().strip('/')}/**") for d in (config.migrations, config.seeds))
    return f"""\
# migguard on every pull request that touches migrations: lint what changed (annotations and code
# scanning), then plan the pending migrations on an ephemeral shadow PostgreSQL against the base
# branch (no production access), with the plan as the job summary. The composite action in
# migguard's repository (action.yml) runs the same steps: `uses: <owner>/migguard@v{__version__}`.
name: migguard
on:
  pull_request:
    paths: [{paths}, "migguard.toml"]
permissions:
  contents: read
  security-events: write  # upload the SARIF report to code scanning
jobs:
  migguard:
    runs-on: ubuntu-latest
    env:
      BASE: ${{{{ github.event.pull_request.base.sha }}}}
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0  # --changed-since and --base need the base commit
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: python -m pip install "migguard=={__version__}"
      - name: migguard lint (changed migrations)
        id: lint
        run: |
          set +e
          migguard lint --changed-since "$BASE" --format github
          migguard lint --changed-since "$BASE" --format sarif --output migguard.sarif
          echo "exit-code=$?" >> "$GITHUB_OUTPUT"
      - uses: github/codeql-action/upload-sarif@v3
        if: ${{{{ always() && hashFiles('migguard.sarif') != '' }}}}
        with:
          sarif_file: migguard.sarif
          category: migguard
      - name: migguard plan (against the base branch)
        id: plan
        run: |
          set +e
          migguard plan --base "$BASE" --format markdown > migguard-plan.md
          code=$?
          {{ echo; cat migguard-plan.md; }} >> "$GITHUB_STEP_SUMMARY"
          echo "exit-code=$code" >> "$GITHUB_OUTPUT"
      - name: gate
        env:
          LINT_EXIT: ${{{{ steps.lint.outputs.exit-code }}}}
          PLAN_EXIT: ${{{{ steps.plan.outputs.exit-code }}}}
        run: |
          lint=${{LINT_EXIT:-2}}; plan=${{PLAN_EXIT:-2}}
          echo "migguard: lint exit $lint, plan exit $plan"
          exit $(( lint > plan ? lint : plan ))
"""


@dataclass
class InitResult:
    written: list[Path] = field(default_factory=list)
    directories: list[Path] = field(default_factory=list)
    gitignore_added: list[str] = field(default_factory=list)
    precommit_snippet: str | None = None  # the entry to add by hand to an existing config


def run_init(directory: Path, force: bool = False) -> InitResult:
    """Write the project files into `directory`; refuse (naming them) to overwrite any without force."""
    directory = directory.resolve()
    config = Config(root=str(directory))
    files = {
        directory / "migguard.toml": config_text(),
        directory / "vault" / ".env.example": ENV_EXAMPLE,
        directory / ".github" / "workflows" / "migguard.yml": workflow_text(config),
    }
    precommit = directory / ".pre-commit-config.yaml"
    if not force:
        existing = [path for path in files if os.path.lexists(path)]
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _has_tool_table(pyproject):
            existing.append(pyproject)
        if existing:
            names = ", ".join(os.path.relpath(p, directory) for p in existing)
            raise InputError(f"init would overwrite {names} (a migguard configuration exists already?): "
                             "nothing was written; use --force to overwrite")
    result = InitResult()
    for key in ("migrations", "seeds"):
        path = write_path(directory, getattr(config, key), key)
        if not path.is_dir():
            path.mkdir(parents=True)
            (path / ".gitkeep").touch()
            result.directories.append(path)
    for path, text in files.items():
        _replace(path, text)
        result.written.append(path)
    if os.path.lexists(precommit):
        content = precommit.read_text(encoding="utf-8", errors="replace")
        if "migguard-lint" not in content:
            result.precommit_snippet = precommit_entry(config)
    else:
        _replace(precommit, precommit_text(config))
        result.written.append(precommit)
    result.gitignore_added = _ignore(directory / ".gitignore")
    return result


def _replace(path: Path, text: str) -> None:
    """Write `path` atomically; a symbolic link in its place is replaced, never followed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise InputError(f"cannot write {path}: {error.strerror}") from None


def _ignore(gitignore: Path) -> list[str]:
    """Append the lines migguard needs to .gitignore (created if missing); none twice."""
    text = gitignore.read_text(encoding="utf-8", errors="replace") if gitignore.is_file() else ""
    present = {line.strip() for line in text.splitlines()}
    missing = [line for line in _IGNORED if not (_IGNORE_VARIANTS[line] & present)]
    if missing:
        block = "# migguard: secrets (vault/.env) and local state (.migguard/ holds production backups)\n"
        prefix = "" if not text or text.endswith("\n") else "\n"
        with open(gitignore, "a", encoding="utf-8", newline="\n") as handle:
            handle.write(prefix + ("\n" if text.strip() else "") + block + "\n".join(missing) + "\n")
    return missing
