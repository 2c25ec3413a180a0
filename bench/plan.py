"""`migguard plan`, introspection and diff against SPEC section 10's targets; prints the figures.

    python bench/plan.py [--tables 200] [--migrations 100] [--big 1000] [--skip-migra] [--skip-plan] [--only-plan]

(a) plan: a generated project (one migration creating a `--tables`-table schema, then
`--migrations` generated ones: create table with RLS and a policy, add column, CREATE INDEX
CONCURRENTLY, CHECK … NOT VALID, VALIDATE CONSTRAINT, CREATE POLICY) planned through
`migguard.plan.command.run_plan` with no production URL:
  - every migration pending (nothing applied, so the replay is empty);
  - `--base` (git) with the schema and the first half applied: the replay the template cache keys;
each cold (an ephemeral cluster started and removed by the plan, no templates) and warm (a kept
shadow, `migguard shadow start`'s `start_persistent`, run twice: the second run's replay copies
the template of the first). Then once more with PG_PROD_URL = a database on the kept shadow with
the schema and the first half applied through the history table (clone by pg_dump, drift,
pre-checks). Target: under 5 s warm, under 10 s cold.
(b) introspect() of a `--big`-table schema (a few columns, two indexes, a primary key, a unique
key, a foreign key, a CHECK, RLS and a policy per table). Target: under 2 s.
(c) introspection + diff of that schema against a modified copy, migguard against migra (PyPI
`migra`, the bench extra): wall times, their ratio, statements emitted, and whether each script,
applied to a copy of the first database, yields the second (judged by migguard's introspection).

It asserts nothing. The server is the bundled PostgreSQL (pgserver) unless only a local one exists.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from migguard.core.config import load_config  # noqa: E402
from migguard.core.errors import MigguardError  # noqa: E402
from migguard.core.sources import discover  # noqa: E402
from migguard.pg.cluster import Cluster, choose_binaries  # noqa: E402
from migguard.pg.history import AppliedMigration, ensure_table, record  # noqa: E402
from migguard.pg.introspect import introspect, introspect_all  # noqa: E402
from migguard.pg.shadow import apply_migration, start_persistent, stop_persistent  # noqa: E402
from migguard.plan.command import PlanOptions, run_plan  # noqa: E402
from migguard.schema.diff import diff, forward_script  # noqa: E402
from migguard.sql.parse import parse_file  # noqa: E402

WARM_TARGET, COLD_TARGET, INTROSPECT_TARGET = 5.0, 10.0, 2.0
HISTORY_TABLE = "migguard.schema_migrations"


# --- (a) the generated project --------------------------------------------------------------


def base_schema(tables: int) -> str:
    parts = []
    for i in range(tables):
        t = f"t_{i:04}"
        parent = f",\n    parent_id bigint REFERENCES t_{i - 1:04} (id)" if i else ""
        parts.append(f"""CREATE TABLE {t} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id bigint NOT NULL,
    name text NOT NULL,
    amount numeric(12, 2) NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(){parent}
);
CREATE INDEX {t}_tenant_idx ON {t} (tenant_id);
ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;
CREATE POLICY {t}_tenant ON {t} USING (tenant_id = current_setting('app.tenant_id')::bigint);
""")
    return "\n".join(parts)


def generated_migrations(count: int, tables: int) -> list[tuple[str, str]]:
    """(file name, SQL) of `count` migrations over the base tables, six kinds in turn."""
    out = []
    for k in range(1, count + 1):
        t = f"t_{(k * 7) % tables:04}"
        kind = k % 6
        if kind == 1:
            n = f"n_{k:04}"
            name, text = f"create_{n}", f"""CREATE TABLE {n} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id bigint NOT NULL,
    {t}_id bigint,
    body text
);
ALTER TABLE {n} ENABLE ROW LEVEL SECURITY;
CREATE POLICY {n}_tenant ON {n} USING (tenant_id = current_setting('app.tenant_id')::bigint);
"""
        elif kind == 2:
            name, text = f"add_column_{t}", f"ALTER TABLE {t} ADD COLUMN note_{k:04} text;\n"
        elif kind == 3:
            name, text = f"index_{t}", f"CREATE INDEX CONCURRENTLY {t}_created_{k:04}_idx ON {t} (created_at);\n"
        elif kind == 4:
            name, text = f"check_{t}", (f"ALTER TABLE {t} ADD CONSTRAINT {t}_amount_{k:04}_check "
                                        f"CHECK (amount >= 0) NOT VALID;\n")
        elif kind == 5:
            previous = f"t_{((k - 1) * 7) % tables:04}"
            name, text = f"validate_{previous}", (f"ALTER TABLE {previous} VALIDATE CONSTRAINT "
                                                  f"{previous}_amount_{k - 1:04}_check;\n")
        else:
            name, text = f"policy_{t}", (f"CREATE POLICY {t}_insert_{k:04} ON {t} AS RESTRICTIVE FOR INSERT "
                                         f"WITH CHECK (tenant_id = current_setting('app.tenant_id')::bigint);\n")
        out.append((f"{k:04}_{name}.sql", text))
    return out


def make_project(root: Path, tables: int, count: int) -> None:
    directory = root / "db" / "migrations"
    directory.mkdir(parents=True)
    (directory / "0000_base_schema.sql").write_text(base_schema(tables), encoding="utf-8")
    for name, text in generated_migrations(count, tables):
        (directory / name).write_text(text, encoding="utf-8")
    (root / "migguard.toml").write_text('[tool.migguard]\nmigrations = "db/migrations"\npg_version = 16\n',
                                        encoding="utf-8")


def git_base(root: Path, applied: int) -> None:
    """A git repository whose HEAD holds the schema and the first `applied` generated migrations."""
    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", *args],
                       cwd=root, check=True, capture_output=True)
    git("init", "-q")
    files = sorted((root / "db" / "migrations").glob("*.sql"))[:applied + 1]
    git("add", *[str(f.relative_to(root)) for f in files])
    git("commit", "-q", "-m", "base")


def production(url: str, root: Path, applied: int) -> None:
    """The schema and the first `applied` generated migrations, applied with their history rows."""
    migrations = discover(root / "db" / "migrations")[:applied + 1]
    with psycopg.connect(url, autocommit=True) as conn:
        for migration in migrations:
            apply_migration(conn, migration)
        with conn.transaction():
            ensure_table(conn, HISTORY_TABLE)
            for migration in migrations:
                record(conn, HISTORY_TABLE, AppliedMigration(migration.version, migration.name, migration.checksum(),
                                                             None, "bench", datetime.now(timezone.utc), 1))
        conn.execute("INSERT INTO t_0000 (tenant_id, name) SELECT g % 3, 'n' || g FROM generate_series(1, 1000) g")


def run(root: Path, label: str, target: float, **options: object) -> None:
    config = load_config(str(root / "migguard.toml"))
    started = time.perf_counter()
    try:
        report, plan = run_plan(PlanOptions(continue_on_error=True, allow_destructive=True, accept_drift=True,
                                            **options), config)
    except MigguardError as error:
        print(f"  {label:<44} FAILED after {time.perf_counter() - started:.2f} s: {error}")
        return
    elapsed = time.perf_counter() - started
    marks = sorted(plan.timings.items(), key=lambda item: item[1])
    steps = ", ".join(f"{name} {end - start:.2f}" for (name, start), (_, end) in zip(marks, marks[1:]))
    verdict = "ok" if elapsed < target else "OVER"
    print(f"  {label:<44} {elapsed:6.2f} s  (target < {target:.0f} s: {verdict})  "
          f"applied {len(plan.applied)}, pending {len(plan.pending)}, changes {len(plan.changes)}, "
          f"rollback verified {plan.rollback_verified}")
    print(f"  {'':<44} step → next step (s; the first includes starting an ephemeral shadow): {steps}")


def bench_plan(tables: int, count: int) -> None:
    half = count // 2
    print(f"(a) plan: {count} generated migrations on a {tables}-table schema "
          f"(+1 migration creating it), embedded shadow, PostgreSQL {choose_binaries().major}")
    for key in ("PG_PROD_URL", "PG_SHADOW_URL"):
        os.environ.pop(key, None)
    with tempfile.TemporaryDirectory(prefix="migguard-bench-") as temporary:
        root = Path(temporary)
        make_project(root, tables, count)
        git_base(root, half)
        state = root / ".migguard"
        run(root, f"cold, all {count + 1} pending", COLD_TARGET)
        run(root, f"cold, --base: {half + 1} applied, {count - half} pending", COLD_TARGET, base="HEAD")
        start_persistent(state)
        try:
            for attempt in (1, 2):
                run(root, f"warm #{attempt}, all {count + 1} pending", WARM_TARGET)
            for attempt in (1, 2):
                run(root, f"warm #{attempt}, --base: {half + 1} applied", WARM_TARGET, base="HEAD")
            shadow_url = start_persistent(state)["url"]
            with psycopg.connect(shadow_url, autocommit=True) as admin:
                admin.execute("CREATE DATABASE bench_production")
            prod_url = shadow_url.replace("/postgres?", "/bench_production?")
            production(prod_url, root, half)
            os.environ["PG_PROD_URL"] = prod_url
            try:
                for attempt in (1, 2):
                    run(root, f"PG_PROD_URL #{attempt}: {half + 1} applied, {count - half} pending", WARM_TARGET)
            finally:
                os.environ.pop("PG_PROD_URL", None)
        finally:
            stop_persistent(state)


# --- (b) and (c): a big schema ----------------------------------------------------------------


def big_schema(tables: int) -> str:
    parts = []
    for i in range(tables):
        t = f"b_{i:04}"
        parent = f",\n    parent_id bigint REFERENCES b_{i - 1:04} (id)" if i else ""
        parts.append(f"""CREATE TABLE {t} (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    tenant_id bigint NOT NULL,
    code varchar(40) NOT NULL,
    qty integer NOT NULL DEFAULT 0 CHECK (qty >= 0),
    note text,
    created_at timestamptz NOT NULL DEFAULT now(){parent},
    UNIQUE (tenant_id, code)
);
CREATE INDEX {t}_created_idx ON {t} (created_at);
ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;
CREATE POLICY {t}_tenant ON {t} USING (tenant_id = current_setting('app.tenant_id')::bigint);
""")
    return "\n".join(parts)


def modifications(tables: int) -> str:
    """A broad change to the big schema: new tables, columns, types, defaults, indexes, policies, drops."""
    step = max(1, tables // 100)
    lines = []
    for i in range(0, tables, step * 1):  # ~100 tables touched per kind
        t = f"b_{i:04}"
        lines.append(f"ALTER TABLE {t} ADD COLUMN extra_{i} jsonb NOT NULL DEFAULT '{{}}';")
    for i in range(1, tables, step * 2):
        lines.append(f"ALTER TABLE b_{i:04} ALTER COLUMN qty TYPE bigint;")
        lines.append(f"ALTER TABLE b_{i:04} ALTER COLUMN note SET DEFAULT 'n/a';")
    for i in range(2, tables, step * 4):
        lines.append(f"DROP INDEX b_{i:04}_created_idx;")
        lines.append(f"CREATE INDEX b_{i:04}_code_idx ON b_{i:04} (code) WHERE note IS NOT NULL;")
        lines.append(f"CREATE POLICY b_{i:04}_insert ON b_{i:04} FOR INSERT WITH CHECK (qty < 1000);")
    for i in range(3, tables, step * 10):
        lines.append(f"ALTER TABLE b_{i:04} ADD CONSTRAINT b_{i:04}_code_check CHECK (code <> '') NOT VALID;")
        lines.append(f"DROP POLICY b_{i:04}_tenant ON b_{i:04};")
    for i in reversed(range(tables - 10, tables)):  # each references the one before
        lines.append(f"DROP TABLE b_{i:04};")
    for i in range(50):
        lines.append(f"CREATE TABLE nb_{i:04} (id bigint PRIMARY KEY, ref bigint REFERENCES b_{i:04} (id), body text);")
    return "\n".join(lines)


def best(repeat: int, function) -> tuple[float, float, object]:
    """(first time, best time, last result) of `repeat` calls."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return times[0], min(times), result


def statements(text: str) -> int:
    return len(parse_file(text).statements)


def bench_big(tables: int, skip_migra: bool) -> None:
    with Cluster(choose_binaries()) as cluster:
        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE big_a")
        started = time.perf_counter()
        with psycopg.connect(cluster.url("big_a")) as conn:
            conn.execute(big_schema(tables))
        built = time.perf_counter() - started
        a_url = cluster.url("big_a")
        first, fastest, model = best(3, lambda: introspect(a_url))
        verdict = "ok" if fastest < INTROSPECT_TARGET else "OVER"
        objects = sum(len(t.columns) + len(t.indexes) + len(t.constraints) + len(t.policies) for t in model.tables.values())
        print(f"\n(b) introspect() of a {tables}-table schema ({objects} columns, indexes, constraints and policies; "
              f"built in {built:.1f} s)")
        print(f"  first {first:.2f} s, best of 3 {fastest:.2f} s  (target < {INTROSPECT_TARGET:.0f} s: {verdict})")

        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            # The copies the scripts are checked on, made before anything keeps big_a open (migra's pool does).
            for name in ("big_b", "mg_check", "mi_check"):
                admin.execute(f"CREATE DATABASE {name} TEMPLATE big_a")
        with psycopg.connect(cluster.url("big_b")) as conn:
            conn.execute(modifications(tables))
        b_url = cluster.url("big_b")

        split: list[tuple[float, float]] = []

        def migguard_diff() -> str:  # as `migguard diff URL URL` does (drift/compare.py)
            started = time.perf_counter()
            models = introspect_all((a_url, b_url))
            read = time.perf_counter()
            script = forward_script(diff(*models))
            split.append((read - started, time.perf_counter() - read))
            return script
        m_first, m_best, m_sql = best(3, migguard_diff)
        read_both, diffed = min(split, key=sum)
        changes = len(diff(introspect(a_url), introspect(b_url)))
        print(f"\n(c) introspection + diff, {tables}-table schema against a modified copy")
        print(f"  migguard: first {m_first:.2f} s, best of 3 {m_best:.2f} s (both schemas read at once {read_both:.2f} s, "
              f"diff and script {diffed:.2f} s); {changes} changes, "
              f"{statements(m_sql)} statements; {_check(cluster, 'mg', m_sql, b_url)}")
        if skip_migra:
            print("  migra: skipped (--skip-migra)")
            return
        try:
            from migra import Migration
            from sqlbag import S
        except ImportError as error:
            print(f"  migra: not installed ({error}); `pip install -e '.[bench]'` installs migra and psycopg2-binary")
            return

        def migra_diff() -> str:
            with S(a_url) as a, S(b_url) as b:
                migration = Migration(a, b)
                migration.set_safety(False)
                migration.add_all_changes()
                return migration.sql
        try:
            g_first, g_best, g_sql = best(3, migra_diff)
        except Exception as error:  # noqa: BLE001 - a third-party tool on this Python: report, do not crash
            print(f"  migra: failed on this Python/PostgreSQL: {type(error).__name__}: {error}")
            return
        print(f"  migra:    first {g_first:.2f} s, best of 3 {g_best:.2f} s; {statements(g_sql)} statements; "
              f"{_check(cluster, 'mi', g_sql, b_url)}")
        print(f"  ratio migguard / migra (best of 3): {m_best / g_best:.2f}")


def _check(cluster: Cluster, prefix: str, script: str, target_url: str) -> str:
    """Apply `script` to a copy of big_a; say whether the copy now equals big_b."""
    name = f"{prefix}_check"
    try:
        with psycopg.connect(cluster.url(name)) as conn:
            conn.execute(script)
    except psycopg.Error as error:
        return f"its script fails on a copy: {str(error).splitlines()[0]}"
    left = diff(introspect(cluster.url(name)), introspect(target_url))
    if not left:
        return "applied to a copy it yields the modified schema exactly"
    return f"applied to a copy, {len(left)} differences remain (e.g. {', '.join(c.describe() for c in left[:3])})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--migrations", type=int, default=100)
    parser.add_argument("--big", type=int, default=1000)
    parser.add_argument("--skip-migra", action="store_true")
    parser.add_argument("--skip-plan", action="store_true", help="only (b) and (c): the big schema")
    parser.add_argument("--only-plan", action="store_true", help="only (a): the generated project's plan")
    args = parser.parse_args()
    if shutil.which("git") is None:
        sys.exit("bench/plan.py needs git (the --base runs)")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs; "
          f"Python {sys.version.split()[0]}")
    if not args.skip_plan:
        bench_plan(args.tables, args.migrations)
    if not args.only_plan:
        bench_big(args.big, args.skip_migra)


if __name__ == "__main__":
    main()
