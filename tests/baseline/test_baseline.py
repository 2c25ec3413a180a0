"""`migguard baseline`'s parts: the dump made a normal migration (capture.py), the roles block, the
first file's name per layout, and the proof (proof.py) on a real PostgreSQL. The CLI flows are in
test_baseline_live.py."""

from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from migguard.baseline.capture import capture, clean_dump, roles_block
from migguard.baseline.ignores import file_ignore
from migguard.baseline.proof import prove
from migguard.core.config import Config
from migguard.core.sources import discover
from migguard.lint.engine import LintOptions, run_lint
from migguard.pg.introspect import introspect
from migguard.pg.shadow import ShadowServer
from migguard.project.new import first_migration, write_files
from migguard.schema.model import CONNECTING_ROLE

NOW = datetime(2026, 12, 3, 23, 0, tzinfo=UTC)

SCHEMA = """
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (tenant_id uuid NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, total numeric,
                               PRIMARY KEY (tenant_id, id));
ALTER TABLE billing.invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing.invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON billing.invoices TO "Baseline Reader"
    USING (tenant_id = current_setting('app.tenant_id')::uuid);
GRANT SELECT ON billing.invoices TO "Baseline Reader";
-- a SQL function created before the table it reads, in pg_dump's order: needs check_function_bodies off
CREATE FUNCTION billing.invoice_count() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM billing.invoices';
CREATE FUNCTION billing.touch() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
SET search_path = billing;
END $$;
CREATE SCHEMA migguard;
CREATE TABLE migguard.schema_migrations (version text PRIMARY KEY);
"""


@pytest.fixture
def production(pg, pg_cluster):
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        admin.execute("""DO $$ BEGIN CREATE ROLE "Baseline Reader" NOLOGIN;
                         EXCEPTION WHEN duplicate_object THEN NULL; END $$""")
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(SCHEMA)
    return pg


def test_clean_dump_drops_top_level_session_settings_but_never_a_line_of_a_function_body():
    dump = ("--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n"
            "SELECT pg_catalog.set_config('search_path', '', false);\nSET check_function_bodies = false;\n\n"
            "CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\nSET work_mem = '1MB';\n\n\n\nEND $$;\n\n"
            "SET default_tablespace = '';\n\nCREATE TABLE public.t (id int);\n")
    cleaned = clean_dump(dump)
    assert cleaned == ("--\n-- PostgreSQL database dump\n--\n\n"
                       "CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\nSET work_mem = '1MB';\n\n\n\n"
                       "END $$;\n\nCREATE TABLE public.t (id int);\n")


def test_roles_block_quotes_any_role_name_and_its_dollar_tag_occurs_in_none(pg):
    names = ("Baseline Reader", "o'brien", "tag$migguard_roles$inside")
    block = roles_block(names)
    assert "$migguard_roles1$" in block
    with psycopg.connect(pg, autocommit=True) as conn:
        for _ in range(2):  # idempotent: the second run finds them and changes nothing
            conn.execute(block)
        found = conn.execute("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY(%s) ORDER BY 1",
                             (list(names),)).fetchall()
    assert found == sorted((name, False) for name in names)
    assert roles_block(()) == ""


@pytest.mark.parametrize(("layout", "expected"), [
    ("plain", ["0001_baseline.sql"]),
    ("flyway", ["V1__baseline.sql"]),
    ("dbmate", ["20261203230000_baseline.sql"]),
    ("updown", ["0001_baseline/up.sql", "0001_baseline/down.sql"]),
])
def test_the_first_migration_is_named_for_the_layout_as_new_names_it(tmp_path, layout, expected):
    new_dir, files = first_migration(tmp_path, layout, "baseline", "SELECT 1;\n", "-- no\n", NOW)
    assert [str(path.relative_to(tmp_path)) for path, _ in files] == expected
    write_files(tmp_path, new_dir, files)
    [migration] = discover(tmp_path, layout)
    assert migration.name == "baseline" and "SELECT 1;" in migration.up_sql()


@pytest.mark.pg
def test_capture_is_a_normal_migration_without_migguards_schema_that_lint_reads(production, tmp_path):
    captured = capture(production, "migguard", "migguard.schema_migrations", NOW)
    text = captured.text
    assert captured.roles == ("Baseline Reader",)
    assert text.startswith("-- migguard baseline: production's schema")
    assert "at 2026-12-03T23:00:00Z" in text and f"PostgreSQL {captured.server_version}," in text
    assert "CREATE TABLE billing.invoices" in text and "CREATE POLICY tenant_isolation" in text
    assert 'GRANT SELECT ON TABLE billing.invoices TO "Baseline Reader"' in text
    assert "CREATE TABLE migguard.schema_migrations" not in text and "CREATE SCHEMA migguard" not in text
    assert "OWNER TO" not in text
    assert "SET search_path = billing;" in text  # the function body is untouched
    top_level_sets = [line for line in text.splitlines() if line.startswith(("SET ", "SELECT pg_catalog.set_config"))]
    # the header's own, and the function body's line: pg_dump's session settings are gone
    assert [line.split(";")[0] for line in top_level_sets] == ["SET LOCAL check_function_bodies = false",
                                                                "SET search_path = billing"]
    directory = tmp_path / "db" / "migrations"
    directory.mkdir(parents=True)
    path = directory / "0001_baseline.sql"
    path.write_text(text)
    config = Config(root=str(tmp_path), source=str(tmp_path / "migguard.toml"))  # a project: write-path rules too
    report = run_lint(LintOptions(paths=(str(path),), use_cache=False), config)
    assert report.summary["files"] == 1 and report.findings  # static rules fire on a tenant schema's DDL
    assert not [f for f in report.findings if f.rule == "syntax-error"]

    # the one file-level ignore names exactly the rules that fired: lint --strict then passes, no unused-ignore
    ignore = file_ignore(path, directory, text, config)
    assert ignore.startswith("-- migguard:ignore-file ") and "-- migguard baseline:" in ignore
    assert set(ignore.split(" -- ")[0].split("ignore-file ")[1].split(", ")) == {f.rule for f in report.findings}
    path.write_text(captured.with_header_line(ignore).text)
    again = run_lint(LintOptions(paths=(str(path),), use_cache=False, strict=True), config)
    assert not again.findings and again.ok


def _migration(tmp_path: Path, text: str):
    (tmp_path / "m").mkdir(parents=True)
    (tmp_path / "m" / "0001_baseline.sql").write_text(text)
    return discover(tmp_path / "m")[0]


@pytest.mark.pg
def test_the_proof_passes_for_the_capture_and_names_what_a_doctored_baseline_lacks(production, pg_cluster, tmp_path):
    text = capture(production, "migguard", "migguard.schema_migrations", NOW).text
    with ShadowServer(pg_cluster.url()) as shadow:
        before = shadow.databases("migguard_")
        proof = prove(shadow, _migration(tmp_path / "a", text), production, "migguard")
        assert proof.ok, [c.describe() for c in proof.differences]
        assert set(proof.production.tables) == {"billing.invoices"}  # migguard's schema left out

        doctored = text.replace("CREATE POLICY tenant_isolation", "CREATE POLICY renamed")
        proof = prove(shadow, _migration(tmp_path / "b", doctored), production, "migguard")
        described = [c.describe() for c in proof.differences]
        assert not proof.ok and any("tenant_isolation" in d for d in described), described

        broken = text + "\nALTER TABLE billing.nowhere ADD COLUMN x int;\n"
        proof = prove(shadow, _migration(tmp_path / "c", broken), production, "migguard")
        assert proof.replay_error is not None and "billing.nowhere" in proof.replay_error
        assert shadow.databases("migguard_") == before  # its scratch databases are dropped


@pytest.mark.pg
def test_objects_of_the_role_migguard_connects_as_are_proven_as_owned_by_whoever_replays(pg, pg_cluster, tmp_path):
    """Production owned by a non-superuser login role, migguard connecting as it: the baseline (no
    owners) replayed by the shadow's role reproduces it; production's role stands for the connecting one."""
    with psycopg.connect(pg, autocommit=True) as admin:
        admin.execute("DO $$ BEGIN CREATE ROLE baseline_owner LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        admin.execute("DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO baseline_owner', current_database()); END $$")
    owner_url = pg.replace("postgresql://postgres@", "postgresql://baseline_owner@")
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA app; CREATE TABLE app.items (tenant_id uuid NOT NULL, id int, PRIMARY KEY (tenant_id, id));"
                     "ALTER TABLE app.items ENABLE ROW LEVEL SECURITY; ALTER TABLE app.items FORCE ROW LEVEL SECURITY;"
                     "CREATE POLICY tenant_isolation ON app.items USING (tenant_id = current_setting('app.tenant_id')::uuid);"
                     "CREATE VIEW app.item_ids WITH (security_invoker = true) AS SELECT id FROM app.items;")
    assert introspect(pg).tables["app.items"].owner == "baseline_owner"
    text = capture(owner_url, "migguard", "migguard.schema_migrations", NOW).text
    with ShadowServer(pg_cluster.url()) as shadow:
        proof = prove(shadow, _migration(tmp_path, text), owner_url, "migguard")
    assert proof.ok, [c.describe() for c in proof.differences]
    # the clone keeps production's owner; production's role stands for the connecting one, so the
    # objects the shadow's role replayed compare as owned alike
    assert proof.production.tables["app.items"].owner == "baseline_owner"
    assert "baseline_owner" in proof.production.connecting_roles
    relative = proof.production.relative_owners()
    assert relative.schemas["app"] == CONNECTING_ROLE and relative.views["app.item_ids"].owner == CONNECTING_ROLE
