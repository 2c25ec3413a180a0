"""Real projects' migration histories (../shared/corpus), replayed in order on the shadow with
`discover` + `ShadowServer.replay`, then the schema diff proven on them: with a = the schema after
the first half of the history and b = after all of it, forward_script(diff(a, b)) applied to a
copy of a yields b exactly, and reverse_script brings a back (modulo what it lists as irreversible).

What replays where (measured on the bundled PostgreSQL 16, which ships only plpgsql and vector,
and the machine's PostgreSQL 15 with contrib):

| history | PG 16 | PG 15 | round trip |
|---|---|---|---|
| LemmyNet__lemmy | first 92 of 342 (pgcrypto) | first 247 of 342 (2025-08-01-000016 uses PG 16 syntax: a subquery without alias) | yes |
| rust-lang__crates.io | first 151 of 285 (ltree) | all 285 | PG 15 (PG 16 xfail: see below) |
| concourse__concourse | first 141 of 149 (pgcrypto) | all 149 | yes |
| ory__kratos (postgres + generic files) | first 305 of 351 (pg_trgm) | all 351 | yes |
| goharbor__harbor | all 39 (+ golang-migrate's table) | same | no (xfail): time → timestamp has no cast |
| supabase__storage (tenant) | first 28 of 63 (0029 commits inside a DO block) | same | yes |
| documenso__documenso | first 129 of 163 (pgcrypto) | all 163 | yes |
| langfuse__langfuse | all 434 | all 434 | yes |
| temporalio__temporal (v12, versioned) | all 25 | all 25 | yes |

Not replayable at all: hpi-studyu__studyu, usebasejump__basejump and supabase__postgres need a
Supabase database (the `auth` schema, its roles, pgcrypto's functions on the search path);
midday-ai__midday's files alter a schema created elsewhere (the first one alters the enum
"reportTypes"); graphile__starter is one committed file with graphile-migrate placeholders
(`:DATABASE_OWNER`); supabase__auth is templated (`{{ index .Options "Namespace" }}`);
PostgREST__postgrest and sbdchd__squawk are fixtures, not histories.

crates.io on PG 16: its second half creates a function over the composite type
`public.semver_triple`, which the schema model has no place for (composite types are not
introspected), so diff(a, b) cannot create it; its round trip runs on PG 15, where the half point
falls after that migration.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from migguard.core.sources import Migration, discover
from migguard.pg.introspect import introspect
from migguard.pg.shadow import ShadowServer
from migguard.schema.diff import diff, forward_script, reverse_script

pytestmark = pytest.mark.pg

CORPUS = Path(__file__).parents[3] / "shared" / "corpus"
if not CORPUS.is_dir():
    pytest.skip(f"the shared migration corpus is not at {CORPUS}", allow_module_level=True)

_EXTENSION = re.compile(r"\bcreate\s+extension\s+(?:if\s+not\s+exists\s+)?\"?([\w-]+)", re.IGNORECASE)
_OTHER_DIALECT = re.compile(r"\.(mysql|sqlite3?|cockroach)(\.autocommit)?$")
_PRELUDES = Path(tempfile.gettempdir()) / "migguard-corpus-preludes"


def _by_text_version(migrations: list[Migration]) -> list[Migration]:
    """diesel and prisma order versions as text (diesel without its dashes). `discover` compares
    them as numbers, which puts `2017-08-31-…` before `20140924…` (crates.io) and `20250625_…`
    before `20230518…` (langfuse); reported as a bug in sources.py."""
    return sorted(migrations, key=lambda m: (re.sub(r"[-_.]", "", m.version), m.name))


def _prelude(name: str, text: str) -> Migration:
    _PRELUDES.mkdir(exist_ok=True)
    path = _PRELUDES / f"0000_{name}.sql"
    path.write_text(text, encoding="utf-8")
    return Migration("0000", name, path)


def _files(directory: Path) -> list[Migration]:
    """Every migration file in order, duplicate versions included (concourse, langfuse and kratos
    have some: `plan` refuses such a directory, the replay itself does not care)."""
    return discover(directory, unique=False)


@dataclass(frozen=True)
class History:
    directory: str  # the migrations directory, relative to the corpus
    load: Callable[[Path], list[Migration]] = _files
    limit: dict[int, int] = field(default_factory=dict)  # major → longest prefix that replays (or fits the time)
    round_trip_fails: dict[int, str] = field(default_factory=dict)  # major → why the round trip is known to fail


def _kratos(directory: Path) -> list[Migration]:
    # pop/fizz: `<version>_<name>.<dialect>.up.sql`, or no dialect for every database.
    return [m for m in discover(directory, "updown", unique=False) if not _OTHER_DIALECT.search(m.name)]


def _harbor(directory: Path) -> list[Migration]:
    # 0030 alters golang-migrate's own table, which the tool creates before the first migration.
    table = "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);"
    return [_prelude("golang_migrate", table), *discover(directory, unique=False)]


def _temporal(directory: Path) -> list[Migration]:
    # schema/postgresql/v12/temporal/versioned/v1.N/*.sql, in version order (the files carry no version).
    def key(path: Path) -> list[int]:
        return [int(part) for part in path.name.removeprefix("v").split(".")]
    migrations = []
    for version in sorted((p for p in directory.iterdir() if p.is_dir()), key=key):
        migrations += [dataclasses.replace(m, version=f"{version.name[1:]}.{i}")
                       for i, m in enumerate(discover(version, "plain", unique=False))]
    return migrations


NO_CAST = ("0080 turns retention_policy.create_time from time into timestamp USING (current_date + create_time); "
           "the diff's generated USING create_time::timestamp has no cast to run")

HISTORIES = {
    # 2025-08-01-000016 onwards needs PostgreSQL 16 (a FROM subquery without an alias).
    "LemmyNet__lemmy": History("LemmyNet__lemmy/migrations", limit={15: 247}),
    "rust-lang__crates.io": History("rust-lang__crates.io/migrations",
                                    lambda d: _by_text_version(discover(d, "updown", unique=False))),
    "concourse__concourse": History("concourse__concourse/atc/db/migration/migrations"),
    "ory__kratos": History("ory__kratos/persistence/sql/migrations/sql", _kratos),
    "goharbor__harbor": History("goharbor__harbor/make/migrations/postgresql", _harbor,
                                round_trip_fails={15: NO_CAST, 16: NO_CAST}),
    # 0029 COMMITs inside a DO block (`-- postgres-migrations disable-transaction`); migguard runs
    # each migration in a transaction, as SPEC section 5 says.
    "supabase__storage": History("supabase__storage/migrations/tenant", limit={15: 28, 16: 28}),
    "documenso__documenso": History("documenso__documenso/packages/prisma/migrations"),
    "langfuse__langfuse": History("langfuse__langfuse/packages/shared/prisma/migrations",
                                  lambda d: _by_text_version(discover(d, "plain", unique=False))),
    "temporalio__temporal": History("temporalio__temporal/schema/postgresql/v12/temporal/versioned", _temporal),
}

NOT_REPLAYABLE = {
    "hpi-studyu__studyu": "needs Supabase: the first migration references the auth schema",
    "midday-ai__midday": "the schema these files alter is created elsewhere: the first one alters the enum \"reportTypes\"",
    "usebasejump__basejump": "needs Supabase: gen_random_bytes from pgcrypto in the extensions schema, the auth schema",
}


# --- replays, cached per cluster ----------------------------------------------------------------


@dataclass
class Replayed:
    migrations: list[Migration]  # the prefix that replays on this server
    total: int  # migrations in the history
    half: str  # database after the first half
    full: str  # database after the whole prefix


_replays: dict[tuple[str, str], Replayed] = {}


def _available_extensions(cluster) -> set[str]:
    with psycopg.connect(cluster.url()) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM pg_available_extensions")}


def _replayed(cluster, name: str) -> Replayed:
    key = (str(cluster.directory), name)
    if key not in _replays:
        history = HISTORIES[name]
        migrations = history.load(CORPUS / history.directory)
        total = len(migrations)
        available = _available_extensions(cluster)
        usable = migrations[:history.limit.get(cluster.binaries.major, total)]
        for index, migration in enumerate(usable):
            if any(ext not in available for ext in _EXTENSION.findall(migration.up_sql())):
                usable = usable[:index]  # stop before the first migration this server cannot run
                break
        shadow = ShadowServer(cluster.url())
        # Replaying the half first saves its template: the whole replay copies it and goes on from there.
        half = shadow.replay(usable[:len(usable) // 2])
        full = shadow.replay(usable)
        _replays[key] = Replayed(usable, total, half, full)
    return _replays[key]


@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_history_replays_in_order(pg_cluster, name):
    replayed = _replayed(pg_cluster, name)
    assert len(replayed.migrations) >= min(25, replayed.total), "too short a prefix to say anything"
    schema = introspect(pg_cluster.url(replayed.full))
    assert schema.tables, f"{name}: no tables after {len(replayed.migrations)} migrations"


@pytest.mark.parametrize("name", sorted(NOT_REPLAYABLE))
def test_histories_that_need_a_platform(name):
    pytest.skip(f"{name}: {NOT_REPLAYABLE[name]}")


# --- the round trip -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_diff_round_trip_on_a_real_history(pg_cluster, name, request):
    known = HISTORIES[name].round_trip_fails.get(pg_cluster.binaries.major)
    if known:
        request.applymarker(pytest.mark.xfail(reason=known, strict=True))
    replayed = _replayed(pg_cluster, name)
    shadow = ShadowServer(pg_cluster.url())
    model_a = introspect(pg_cluster.url(replayed.half))
    model_b = introspect(pg_cluster.url(replayed.full))
    changes = diff(model_a, model_b)
    assert changes, f"{name}: the two halves of the history must differ"

    copy = shadow.create_database(template=replayed.half)
    try:
        url = pg_cluster.url(copy)
        with psycopg.connect(url) as conn:  # one transaction, as a runner would
            conn.execute(forward_script(changes))
        left = diff(introspect(url), model_b)
        assert left == [], [c.describe() for c in left]

        rollback, irreversible = reverse_script(changes)
        with psycopg.connect(url) as conn:
            conn.execute(rollback)
        restored = introspect(url)
        leftovers = {c.object for c in diff(restored, model_a)}
        # Only what the rollback said it cannot reverse may remain (enum values PostgreSQL cannot remove).
        allowed = {c.object.rsplit(".", 1)[0] if c.kind == "add enum value" else c.object for c in irreversible}
        assert leftovers <= allowed, sorted(leftovers - allowed)
        if not irreversible:
            assert restored.fingerprint() == model_a.fingerprint()
    finally:
        shadow.drop_database(copy)
