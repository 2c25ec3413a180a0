"""`migguard new` and `migguard init` as a user runs them: main() (in process, tests/clirun.py) in a real directory.

`new` writes only inside the configured write paths (POLICY: `db/migrations/**`, `db/seeds/**`):
every way out (a path for NAME, `..`, an absolute path, a symbolic link for the directory or the
file) is refused with one line and exit 2, and nothing is written anywhere. Files are numbered
after the newest one in the layout in use, and never overwritten.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from migguard.core.config import Config, load_config
from migguard.project.init import KEY_COMMENTS
from tests.clirun import run_cli


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def error_line(self) -> str:
        assert "Traceback" not in self.stderr, self.stderr
        lines = self.stderr.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{self.stderr}"
        assert lines[0].startswith("migguard: error: "), lines[0]
        return lines[0]


def migguard(*args: str, cwd: Path) -> Result:
    env = {k: v for k, v in os.environ.items() if k not in ("PG_PROD_URL", "PG_SHADOW_URL", "GITHUB_STEP_SUMMARY")}
    done = run_cli(args, cwd=cwd, env=env)
    return Result(done.exit_code, done.stdout, done.stderr)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def snapshot_tree(*roots: Path) -> dict[str, str]:
    """Every path under the roots (links not followed) with its content or link target."""
    tree = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            key = str(path)
            if path.is_symlink():
                tree[key] = "-> " + os.readlink(path)
            elif path.is_file():
                tree[key] = path.read_text(encoding="utf-8", errors="replace")
            else:
                tree[key] = "<dir>"
    return tree


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "app"
    write(root, {"migguard.toml": "[tool.migguard]\n"})
    (root / "db" / "migrations").mkdir(parents=True)
    (root / "db" / "seeds").mkdir(parents=True)
    return root


@pytest.fixture
def outside(tmp_path) -> Path:
    path = tmp_path / "outside"
    path.mkdir()
    return path


def new(project: Path, name: str, template: str = "feature", cwd: Path | None = None) -> Result:
    return migguard("new", name, "--template", template, cwd=cwd or project)


def created(result: Result, project: Path) -> list[str]:
    assert result.code == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line]


# --- refusals: nothing outside the write paths ---------------------------------------------------


@pytest.mark.parametrize("name", [
    "..", "../escape", "../../etc/cron.d/x", "a/b", "db/migrations/x", "a\\b", "..\\x", "x..y",
    "/tmp/absolute", "/etc/passwd", "./x", "x/", "~/x", "a b", "a;b", "$(id)", "nul\x01", ".hidden",
])
def test_new_refuses_a_name_that_is_not_a_plain_name(project, outside, name):
    before = snapshot_tree(project, outside)
    result = new(project, name)
    assert result.code == 2
    assert "NAME" in result.error_line()
    assert snapshot_tree(project, outside) == before


def test_new_refuses_an_empty_name(project):
    assert new(project, "").code == 2


def test_new_refuses_a_migrations_directory_that_is_a_symlink(project, outside):
    (project / "db" / "migrations").rmdir()
    (project / "db" / "migrations").symlink_to(outside, target_is_directory=True)
    result = new(project, "add_x")
    assert result.code == 2
    assert "symbolic link" in result.error_line() and "refusing to write outside the write path" in result.stderr
    assert list(outside.iterdir()) == []


def test_new_refuses_a_parent_directory_that_is_a_symlink(project, outside):
    (outside / "seeds").mkdir()
    (project / "db" / "seeds").rmdir()
    (project / "db" / "migrations").rmdir()
    (project / "db").rmdir()
    (project / "db").symlink_to(outside, target_is_directory=True)
    assert new(project, "plans", "seed").code == 2
    assert new(project, "add_x").code == 2
    assert snapshot_tree(outside) == {str(outside / "seeds"): "<dir>"}


def test_new_refuses_a_symlink_inside_the_project_too(project):
    """A write path that is a link at all is refused, even one to another project directory."""
    (project / "db" / "seeds").rmdir()
    (project / "db" / "seeds").symlink_to(project / "db" / "migrations", target_is_directory=True)
    assert new(project, "plans", "seed").code == 2


def test_new_refuses_a_target_file_that_is_a_symlink_out(project, outside):
    write(project, {"db/migrations/0001_init.sql": "SELECT 1;\n"})
    # a dangling link exactly where the next file would go
    (project / "db" / "migrations" / "0002_add_x.sql").symlink_to(outside / "planted.sql")
    before = snapshot_tree(project, outside)
    result = new(project, "add_x")
    assert result.code == 2
    assert "outside the write path" in result.error_line()
    assert not (outside / "planted.sql").exists()
    assert snapshot_tree(project, outside) == before


def test_new_refuses_a_target_directory_that_is_a_symlink_out(project, outside):
    write(project, {"db/migrations/0001_init/up.sql": "SELECT 1;\n", "db/migrations/0001_init/down.sql": "SELECT 1;\n"})
    (project / "db" / "migrations" / "0002_add_x").symlink_to(outside, target_is_directory=True)
    result = new(project, "add_x")
    assert result.code == 2 and "outside the write path" in result.error_line()
    assert list(outside.iterdir()) == []


def test_new_never_overwrites(project):
    write(project, {"db/migrations/0001_init.sql": "SELECT 1;\n"})
    (project / "db" / "migrations" / "0002_add_x.sql").mkdir()  # a directory named *.sql is not a migration
    result = new(project, "add_x")
    assert result.code == 2 and "already exists: refusing to overwrite it" in result.error_line()
    # a dangling link that stays inside: it exists, so it is refused too, and nothing is created through it
    (project / "db" / "migrations" / "0002_add_x.sql").rmdir()
    (project / "db" / "migrations" / "0002_add_x.sql").symlink_to(project / "db" / "migrations" / "later.sql")
    result = new(project, "add_x")
    assert result.code == 2 and "already exists" in result.error_line()
    assert not (project / "db" / "migrations" / "later.sql").exists()


def test_new_twice_makes_two_files(project):
    first = created(new(project, "add_x"), project)
    (project / first[0]).write_text("-- migguard:template feature\n-- edited\n", encoding="utf-8")
    second = created(new(project, "add_x"), project)
    assert first == ["db/migrations/0001_add_x.sql"] and second == ["db/migrations/0002_add_x.sql"]
    assert (project / first[0]).read_text() == "-- migguard:template feature\n-- edited\n"


def test_new_template_option_is_required_and_checked(project):
    assert migguard("new", "add_x", cwd=project).code == 2
    result = new(project, "add_x", "hotfix")
    assert result.code == 2 and "unknown template 'hotfix'" in result.error_line()
    assert list((project / "db" / "migrations").iterdir()) == []


# --- numbering per layout ------------------------------------------------------------------------


def _files(directory: Path) -> set[str]:
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("existing", "expected"), [
    ([], "0001_add_x.sql"),
    (["0001_init.sql", "0007_b.sql", "0012_c.sql"], "0013_add_x.sql"),
    (["007_a.sql"], "008_add_x.sql"),
    (["9_a.sql"], "10_add_x.sql"),
    (["0999_a.sql"], "1000_add_x.sql"),
    (["0001-init.sql"], "0002-add_x.sql"),
    (["0001_init.sql", "2024/0002_nested.sql"], "0003_add_x.sql"),
])
def test_plain_numbering(project, existing, expected):
    write(project, {f"db/migrations/{name}": "SELECT 1;\n" for name in existing})
    assert created(new(project, "add_x"), project) == [f"db/migrations/{expected}"]


def test_plain_timestamps_continue_as_utc_timestamps(project):
    write(project, {"db/migrations/20240101120000_init.sql": "SELECT 1;\n"})
    before = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    (path,) = created(new(project, "add_x"), project)
    after = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    stamp = re.fullmatch(r"db/migrations/(\d{14})_add_x\.sql", path)[1]
    assert before <= stamp <= after


def test_timestamps_in_the_future_still_sort_after_the_newest(project):
    write(project, {"db/migrations/20991231235900_future.sql": "SELECT 1;\n"})
    assert created(new(project, "add_x"), project) == ["db/migrations/20991231235901_add_x.sql"]


@pytest.mark.parametrize(("existing", "expected"), [
    ({"V1__init.sql": "SELECT 1;\n", "V2__b.sql": "SELECT 1;\n"}, {"V3__add_x.sql"}),
    ({"V1.1__init.sql": "SELECT 1;\n"}, {"V1.2__add_x.sql"}),
    ({"V001__init.sql": "SELECT 1;\n", "R__views.sql": "SELECT 1;\n"}, {"V002__add_x.sql"}),
    ({"V1__init.sql": "SELECT 1;\n", "U1__init.sql": "SELECT 1;\n"}, {"V2__add_x.sql", "U2__add_x.sql"}),
])
def test_flyway_numbering(project, existing, expected):
    write(project, {f"db/migrations/{k}": v for k, v in existing.items()})
    paths = created(new(project, "add_x"), project)
    assert {Path(p).name for p in paths} == expected
    assert _files(project / "db" / "migrations") == set(existing) | expected


def test_updown_directories(project):
    write(project, {"db/migrations/00001_init/up.sql": "SELECT 1;\n", "db/migrations/00001_init/down.sql": "SELECT 1;\n"})
    paths = created(new(project, "add_x"), project)
    assert paths == ["db/migrations/00002_add_x/up.sql", "db/migrations/00002_add_x/down.sql"]
    assert (project / paths[0]).read_text().startswith("-- migguard:template feature\n")
    assert (project / paths[1]).read_text().startswith("-- migguard:template feature\n-- Down script of 00002 add_x")


def test_updown_directories_with_diesel_timestamps(project):
    write(project, {"db/migrations/2024-01-01-120000_init/up.sql": "SELECT 1;\n",
                    "db/migrations/2024-01-01-120000_init/down.sql": "SELECT 1;\n"})
    paths = created(new(project, "add_x"), project)
    assert re.fullmatch(r"db/migrations/\d{4}-\d\d-\d\d-\d{6}_add_x/up\.sql", paths[0]), paths
    assert paths[1] == paths[0].replace("up.sql", "down.sql")


def test_updown_file_pairs(project):
    write(project, {"db/migrations/000001_init.up.sql": "SELECT 1;\n", "db/migrations/000001_init.down.sql": "SELECT 1;\n"})
    assert created(new(project, "add_x"), project) == ["db/migrations/000002_add_x.up.sql",
                                                       "db/migrations/000002_add_x.down.sql"]


def test_dbmate_file_with_both_sections(project):
    write(project, {"db/migrations/20240101120000_init.sql": "-- migrate:up\nSELECT 1;\n-- migrate:down\n"})
    (path,) = created(new(project, "add_x"), project)
    assert re.fullmatch(r"db/migrations/\d{14}_add_x\.sql", path)
    text = (project / path).read_text()
    assert text.startswith("-- migrate:up\n-- migguard:template feature\n")
    assert "\n-- migrate:down\n-- migguard:template feature\n" in text


def test_configured_layout_on_an_empty_directory(project):
    write(project, {"migguard.toml": '[tool.migguard]\nlayout = "dbmate"\n'})
    (path,) = created(new(project, "add_x"), project)
    assert re.fullmatch(r"db/migrations/\d{14}_add_x\.sql", path)
    write(project, {"migguard.toml": '[tool.migguard]\nlayout = "flyway"\nmigrations = "sql/flyway"\n'})
    assert created(new(project, "add_y"), project) == ["sql/flyway/V1__add_y.sql"]


def test_seed_goes_to_the_seeds_directory(project):
    write(project, {"db/migrations/0041_x.sql": "SELECT 1;\n"})
    (path,) = created(new(project, "demo_plans", "seed"), project)
    assert path == "db/seeds/0001_demo_plans.sql"
    text = (project / path).read_text()
    assert text.startswith("-- migguard:template seed\n")
    assert "ON CONFLICT (tenant_id, code) DO NOTHING" in text and "current_setting('app.tenant_id')" in text


def test_configured_write_paths_and_from_a_subdirectory(project):
    write(project, {"migguard.toml": '[tool.migguard]\nmigrations = "sql/up"\nseeds = "sql/seed"\n'})
    sub = project / "src"
    sub.mkdir()
    assert created(new(project, "add_x", cwd=sub), project) == ["../sql/up/0001_add_x.sql"]
    assert (project / "sql" / "seed").exists() is False
    assert created(new(project, "plans", "seed", cwd=sub), project) == ["../sql/seed/0001_plans.sql"]


# --- the files it writes -------------------------------------------------------------------------


def test_feature_file_follows_the_config_and_lints_clean(project):
    write(project, {"migguard.toml": '[tool.migguard]\ntenant_column = "org_id"\ntenant_setting = "app.org"\n'
                                     'lock_timeout = "3s"\n'})
    (path,) = created(new(project, "add_x"), project)
    text = (project / path).read_text()
    assert text.startswith("-- migguard:template feature\n-- add_x: ")
    assert "SET lock_timeout = '3s';" in text and "{{" not in text
    assert "org_id = current_setting('app.org')::uuid" in text and "tenant_id" not in text
    for pattern in ("ENABLE ROW LEVEL SECURITY", "FORCE ROW LEVEL SECURITY", "WITH CHECK", "CONCURRENTLY",
                    "NOT VALID", "VALIDATE CONSTRAINT", "SET NOT NULL", "runs statement by statement"):
        assert pattern in text, pattern
    lint = migguard("lint", "--format", "json", path, cwd=project)
    assert lint.code == 0 and '"findings": []' in lint.stdout, lint.stdout


def test_every_layout_produces_files_lint_accepts(project):
    header = "-- migguard:template feature\n"
    for layout, seed, text in [("dbmate", "20240101120000_init.sql", "-- migrate:up\n" + header + "SELECT 1;\n"),
                               ("updown", "0001_init/up.sql", header + "SELECT 1;\n"),
                               ("flyway", "V1__init.sql", header + "SELECT 1;\n")]:
        directory = project / layout
        write(directory, {"migguard.toml": f'[tool.migguard]\nlayout = "{layout}"\n', f"db/migrations/{seed}": text})
        created(new(directory, "add_x"), directory)
        lint = migguard("lint", "--format", "json", cwd=directory)
        assert lint.code == 0 and '"findings": []' in lint.stdout, (layout, lint.stdout)


def test_project_templates_override_the_bundled_ones(project):
    write(project, {"templates/feature.sql": "-- migguard:template feature\n-- ours: {{name}} v{{version}} "
                                             "{{tenant_column}} {{unknown}}\nSET lock_timeout = '1s';\n"})
    (path,) = created(new(project, "add_x"), project)
    assert (project / path).read_text() == ("-- migguard:template feature\n-- ours: add_x v0001 tenant_id {{unknown}}\n"
                                            "SET lock_timeout = '1s';\n")
    # the seed template is not overridden: the bundled one is used
    (seed,) = created(new(project, "plans", "seed"), project)
    assert "ON CONFLICT" in (project / seed).read_text()


def test_a_project_template_without_the_header_is_used_with_a_warning(project):
    write(project, {"templates/feature.sql": "SET lock_timeout = '1s';\n"})
    result = new(project, "add_x")
    assert result.code == 0
    assert "migguard: warning: " in result.stderr and "missing-template-header" in result.stderr
    lint = migguard("lint", cwd=project)
    assert "missing-template-header" in lint.stdout


def test_bundled_templates_are_found():
    from migguard.project.new import bundled_templates, template_header

    directory = bundled_templates()
    assert directory is not None
    for name in ("feature", "seed"):
        assert template_header((directory / f"{name}.sql").read_text(encoding="utf-8")) == name


# --- init ----------------------------------------------------------------------------------------


INIT_FILES = {"migguard.toml", "vault/.env.example", ".github/workflows/migguard.yml", ".pre-commit-config.yaml",
              ".gitignore", "db/migrations/.gitkeep", "db/seeds/.gitkeep"}


def test_init_writes_the_project_files(tmp_path):
    result = migguard("init", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert _files(tmp_path) == INIT_FILES
    assert "created migguard.toml" in result.stdout and "added to .gitignore: vault/.env, .migguard/" in result.stdout


def test_init_config_lists_every_key_commented_at_its_default(tmp_path):
    migguard("init", cwd=tmp_path)
    text = (tmp_path / "migguard.toml").read_text(encoding="utf-8")
    fields = set(Config.model_fields) - {"source", "root", "rules", "rls", "accept", "scan", "fleet"}
    assert set(KEY_COMMENTS) == fields
    defaults = Config()
    for key in fields:
        line = next(line for line in text.splitlines() if line.startswith(f"# {key} = "))
        value = tomllib.loads(line[2:].split("  #")[0])[key]
        expected = getattr(defaults, key)
        assert value == (list(expected) if isinstance(expected, tuple) else expected) or expected is None, key
    assert "[tool.migguard.rules]" in text and "[tool.migguard.rls]" in text and "[tool.migguard.accept]" in text
    assert "[tool.migguard.scan]" in text and "[tool.migguard.fleet]" in text
    loaded = load_config(start=tmp_path)
    assert loaded.source == str(tmp_path / "migguard.toml")
    assert loaded.model_dump() == Config().model_dump()  # everything commented: the defaults


def test_init_env_example_has_placeholders_only(tmp_path):
    migguard("init", cwd=tmp_path)
    text = (tmp_path / "vault" / ".env.example").read_text(encoding="utf-8")
    values = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert set(values) == {"PG_PROD_URL"}  # PG_SHADOW_URL is commented out: copied as told, it must not be set
    assert all("CHANGE_ME" in value for value in values.values())
    assert "# PG_SHADOW_URL=postgresql://postgres:CHANGE_ME@" in text
    assert not (tmp_path / "vault" / ".env").exists()


def test_init_gitignore_ignores_the_secrets_but_not_the_example(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    migguard("init", cwd=tmp_path)
    (tmp_path / "vault" / ".env").write_text("PG_PROD_URL=postgresql://u:secret@h/db\n", encoding="utf-8")
    ignored = subprocess.run(["git", "check-ignore", "vault/.env", "vault/.env.example", ".migguard/audit.jsonl"],
                             cwd=tmp_path, capture_output=True, text=True).stdout.split()
    assert ignored == ["vault/.env", ".migguard/audit.jsonl"]


def test_init_refuses_to_overwrite_and_names_the_files(tmp_path):
    assert migguard("init", cwd=tmp_path).code == 0
    (tmp_path / "migguard.toml").write_text("[tool.migguard]\nlayout = \"flyway\"\n", encoding="utf-8")
    before = snapshot_tree(tmp_path)
    result = migguard("init", cwd=tmp_path)
    assert result.code == 2
    line = result.error_line()
    for name in ("migguard.toml", "vault/.env.example", ".github/workflows/migguard.yml"):
        assert name in line
    assert "--force" in line
    assert snapshot_tree(tmp_path) == before


def test_init_force_overwrites_and_does_not_duplicate_gitignore_lines(tmp_path):
    write(tmp_path, {".gitignore": "node_modules/\n/vault/.env", "migguard.toml": "layout = 'flyway'\n"})
    assert migguard("init", cwd=tmp_path).code == 2
    assert migguard("init", "--force", cwd=tmp_path).code == 0
    assert migguard("init", "--force", cwd=tmp_path).code == 0
    lines = (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["node_modules/", "/vault/.env"]  # an equivalent line already ignores it
    assert lines.count(".migguard/") == 1 and "vault/.env" not in lines
    assert "[tool.migguard]" in (tmp_path / "migguard.toml").read_text(encoding="utf-8")


def test_init_leaves_an_existing_pre_commit_config_and_prints_the_entry(tmp_path):
    existing = "repos:\n  - repo: https://github.com/pre-commit/pre-commit-hooks\n    rev: v4.6.0\n    hooks:\n      - id: check-yaml\n"
    write(tmp_path, {".pre-commit-config.yaml": existing})
    result = migguard("init", cwd=tmp_path)
    assert result.code == 0
    assert (tmp_path / ".pre-commit-config.yaml").read_text(encoding="utf-8") == existing
    assert "add this to the repos: list of .pre-commit-config.yaml" in result.stdout
    assert "id: migguard-lint" in result.stdout


def test_init_refuses_when_pyproject_already_configures_migguard(tmp_path):
    write(tmp_path, {"pyproject.toml": "[tool.migguard]\nmigrations = 'sql'\n"})
    result = migguard("init", cwd=tmp_path)
    assert result.code == 2 and "pyproject.toml" in result.error_line()
    assert not (tmp_path / "migguard.toml").exists()


def test_init_generated_ci_files_are_valid_yaml(tmp_path):
    yaml = pytest.importorskip("yaml")
    migguard("init", cwd=tmp_path)
    workflow = yaml.safe_load((tmp_path / ".github" / "workflows" / "migguard.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["migguard"]["steps"]
    assert any("migguard lint --changed-since" in step.get("run", "") for step in steps)
    assert any("migguard plan --base" in step.get("run", "") for step in steps)
    hooks = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks["repos"][0]["hooks"]
    assert hook["id"] == "migguard-lint" and re.search(hook["files"], "db/migrations/0001_x.sql")
    assert not re.search(hook["exclude"], "db/migrations/0001_x.sql") and re.search(hook["exclude"], "db/m/1_x/down.sql")


def test_init_then_new_then_lint(tmp_path):
    assert migguard("init", cwd=tmp_path).code == 0
    assert created(new(tmp_path, "create_plans"), tmp_path) == ["db/migrations/0001_create_plans.sql"]
    assert created(new(tmp_path, "demo_plans", "seed"), tmp_path) == ["db/seeds/0001_demo_plans.sql"]
    lint = migguard("lint", "--strict", "db/migrations", "db/seeds", cwd=tmp_path)
    assert lint.code == 0, lint.stdout
    # a SQL file outside the write paths, and one without the header, are reported
    write(tmp_path, {"scripts/hotfix.sql": "SELECT 1;\n", "db/migrations/0002_by_hand.sql": "SELECT 1;\n"})
    lint = migguard("lint", "--format", "json", "--strict", "scripts/hotfix.sql", "db/migrations", cwd=tmp_path)
    assert lint.code == 1
    found = {(f["rule"], f["path"]) for f in json.loads(lint.stdout)["findings"]}
    assert found == {("migration-outside-write-path", "scripts/hotfix.sql"),
                     ("missing-template-header", "db/migrations/0002_by_hand.sql")}


def test_init_fleet_example_is_a_valid_fleet_once_uncommented(tmp_path):
    migguard("init", cwd=tmp_path)
    text = (tmp_path / "migguard.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    start = lines.index("# [tool.migguard.fleet]")
    block = []
    for line in lines[start:]:
        if not line.startswith("# "):
            break
        block.append(line[2:])
    (tmp_path / "migguard.toml").write_text(text + "\n" + "\n".join(block) + "\n", encoding="utf-8")
    fleet = load_config(start=tmp_path).fleet
    assert fleet is not None and fleet.canary == ("eu-small",) and set(fleet.targets) == {"eu-small", "us-1"}
    assert fleet.tenant_schemas is not None and fleet.tenant_schemas.url_env == "PG_TENANTS_URL"
