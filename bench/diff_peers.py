"""The peer diff suite (../shared/peers/diff, 440 schema pairs from migra's fixtures and
pg-schema-diff's acceptance cases; SOURCES.md): for each pair, is `apply(diff(a, b)) == b` and
back exact on a real PostgreSQL? Prints the pass count for migguard and, when the `migra`
program is installed, for migra.

    python bench/diff_peers.py [--peers DIR] [--online] [--judge dump|model] [--only SUBSTRING] [-v]

For each pair: a.sql and b.sql are loaded into two template databases (the roles a case lists
renamed to `peerdiff_<tool>_<role>` and created, as SOURCES.md says); both are introspected; a
copy of a gets forward_script(diff(a, b)) in one transaction (`--online`: the online forms, each
migration file of `migration_scripts` run as migguard runs one) and must equal b; then
reverse_script (`--online`: as a migration file) and it must equal a again. `--judge dump` (the default) compares `pg_dump
--schema-only` text (comments, SET lines and `\\restrict` keys left out), so objects the model
does not hold count too; `--judge model` compares migguard's own introspection (diff == []).
A pair whose a.sql or b.sql does not load on this server (a major or an extension it lacks) is
counted apart, never as a pass or a failure. migra's script (`migra --unsafe --with-privileges`)
is judged the same way, forward only and back. It asserts nothing.

The server is an ephemeral cluster of the first local PostgreSQL (`choose_binaries`), or
--url ADMIN_URL (a superuser on a server whose pg_dump is --pg-dump, which creates and drops
databases `peerdiff_*` and roles `peerdiff_*`).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from migguard.core.sources import Migration  # noqa: E402
from migguard.pg.cluster import Cluster, choose_binaries  # noqa: E402
from migguard.pg.connect import describe  # noqa: E402
from migguard.pg.introspect import introspect  # noqa: E402
from migguard.pg.shadow import MigrationFailed, apply_migration, with_database  # noqa: E402
from migguard.schema.diff import diff, forward_script, migration_scripts, reverse_script  # noqa: E402

PEERS = REPO.parent / "shared" / "peers" / "diff"
_NOISE = re.compile(r"^(--.*|SET .*|SELECT pg_catalog\.set_config.*|\\(un)?restrict .*|)$")
_TABLE = re.compile(r"CREATE (?:UNLOGGED |FOREIGN )?TABLE ")
_EXTENSION = re.compile(r"\bcreate\s+extension\s+(?:if\s+not\s+exists\s+)?\"?([\w-]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Case:
    """One pair: its directory, name (`<tool>/<case>`) and the roles it needs (upstream names)."""

    directory: Path
    roles: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.directory.parent.name}/{self.directory.name}"

    @property
    def tool(self) -> str:
        return self.directory.parent.name

    def role(self, upstream: str) -> str:
        return re.sub(r"\W", "_", f"peerdiff_{self.tool}_{upstream}").lower()

    def text(self, which: str) -> str:
        """a.sql or b.sql with the case's roles renamed."""
        text = (self.directory / f"{which}.sql").read_text(encoding="utf-8")
        for upstream in sorted(self.roles, key=len, reverse=True):
            text = re.sub(rf"(?<![\w$]){re.escape(upstream)}(?![\w$])", self.role(upstream), text)
        return text

    def extensions(self) -> set[str]:
        return {m.lower() for which in ("a", "b") for m in _EXTENSION.findall((self.directory / f"{which}.sql").read_text())}


def cases(peers: Path) -> list[Case]:
    found = []
    for meta in sorted(peers.glob("*/*/meta.json")):
        roles = tuple(json.loads(meta.read_text()).get("roles") or ())
        found.append(Case(meta.parent, roles))
    return found


@dataclass
class Outcome:
    """`ok` / `unloadable` / `failed`, and for a failure the step and the first difference or error."""

    status: str
    step: str = ""
    detail: str = ""
    migra: str | None = None  # the same for migra's script, when migra runs
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


class Server:
    """Databases and roles for the pairs, on one PostgreSQL server."""

    def __init__(self, admin_url: str, pg_dump: str) -> None:
        self.admin_url = admin_url
        self.pg_dump = pg_dump

    def url(self, database: str) -> str:
        return with_database(self.admin_url, database)

    def admin(self, statement: sql.Composable) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)

    def create(self, name: str, template: str = "template0") -> str:
        self.drop(name)
        self.admin(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
        return self.url(name)

    def drop(self, name: str) -> None:
        self.admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def ensure_role(self, role: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))

    def drop_roles(self, prefix: str = "peerdiff_") -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            roles = [r for (r,) in conn.execute("SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)", (prefix,))]
            for role in roles:
                try:
                    conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
                except psycopg.Error as error:
                    print(f"could not drop role {role}: {describe(error)}", file=sys.stderr)

    def dump(self, url: str) -> list[str]:
        """The schema as pg_dump prints it, without comments, SET lines and blank lines, and the
        columns of each CREATE TABLE sorted: a column added by ALTER TABLE comes last in the table,
        and no diff tool rewrites a table to reproduce the column order."""
        result = subprocess.run([self.pg_dump, "--schema-only", "--dbname", url], capture_output=True,
                                text=True, check=False, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"pg_dump: {result.stderr.strip()}")
        return _columns_sorted([line for line in result.stdout.splitlines() if not _NOISE.match(line)])


def _columns_sorted(lines: list[str]) -> list[str]:
    out: list[str] = []
    columns: list[str] | None = None
    for line in lines:
        if columns is None:
            out.append(line)
            if _TABLE.match(line) and line.endswith("("):
                columns = []
        elif line.startswith(")"):
            out += sorted(column.rstrip(",") for column in columns)
            out.append(line)
            columns = None
        else:
            columns.append(line)
    return out


def _load(url: str, text: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET statement_timeout = '60s'")
        conn.execute(text)


def _run_script(url: str, text: str) -> None:
    """A generated script in one transaction, as `migguard rollback` and a plain migration run."""
    if not text.strip():
        return
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET statement_timeout = '60s'")
        with conn.transaction():
            conn.execute(text)


def _run_migrations(url: str, scripts: list[str], directory: Path) -> None:
    """Each script as a migration file, run as migguard runs one (statement by statement with CONCURRENTLY)."""
    directory.mkdir(exist_ok=True)
    for number, text in enumerate(scripts):
        path = directory / f"{number:04d}.sql"
        path.write_text(text)
        with psycopg.connect(url, autocommit=True) as conn:
            apply_migration(conn, Migration(f"{number:04d}", "generated", path))


def _first_difference(got: list[str], want: list[str]) -> str:
    missing = [line for line in want if line not in set(got)]
    extra = [line for line in got if line not in set(want)]
    if not missing and not extra:
        return "same lines, another order"
    return "; ".join([*(f"missing {line.strip()!r}" for line in missing[:1]), *(f"extra {line.strip()!r}" for line in extra[:1])])


def round_trip(server: Server, case: Case, *, online: bool = False, judge: str = "dump",
               migra: str | None = None, available: frozenset[str] | None = None) -> Outcome:
    """a → b → a with migguard's diff on `server` (and migra's forward script, when `migra` is its path)."""
    started = time.monotonic()
    if available is not None and case.extensions() - available:
        return Outcome("unloadable", "load", f"extension(s) {', '.join(sorted(case.extensions() - available))} missing")
    for role in case.roles:
        server.ensure_role(case.role(role))
    names = {k: f"peerdiff_{k}" for k in ("a", "b", "work", "migra")}
    try:
        urls = {}
        for which in ("a", "b"):
            urls[which] = server.create(names[which])
            try:
                _load(urls[which], case.text(which))
            except psycopg.Error as error:
                return Outcome("unloadable", f"load {which}.sql", describe(error))
        before, after = introspect(urls["a"]), introspect(urls["b"])

        dumps: dict[str, list[str]] = {}

        def same(url: str, target: str, model) -> str | None:
            if judge == "model":
                left = diff(introspect(url), model)
                return None if not left else "; ".join(c.describe() for c in left[:2])
            if target not in dumps:
                dumps[target] = server.dump(urls[target])
            got, want = server.dump(url), dumps[target]
            return None if got == want else _first_difference(got, want)

        outcome = Outcome("ok")
        work = server.create(names["work"], template=names["a"])
        changes = diff(before, after, online=online)
        with tempfile.TemporaryDirectory(prefix="peerdiff-") as scratch:
            for step, target, model in (("forward", "b", after), ("reverse", "a", before)):
                try:
                    if step == "forward":
                        if online:
                            _run_migrations(work, migration_scripts(changes), Path(scratch))
                        else:
                            _run_script(work, forward_script(changes))
                    elif online:  # the reverse of CONCURRENTLY is CONCURRENTLY: run as migguard runs such a file
                        _run_migrations(work, [reverse_script(changes)[0]], Path(scratch) / "reverse")
                    else:
                        _run_script(work, reverse_script(changes)[0])
                except psycopg.Error as error:
                    outcome = Outcome("failed", step, f"error: {describe(error)}")
                    break
                except MigrationFailed as error:  # online: a migration file, run as migguard runs one
                    outcome = Outcome("failed", step, f"error: {error.message.split(' failed: ', 1)[-1]}")
                    break
                difference = same(work, target, model)
                if difference:
                    outcome = Outcome("failed", step, difference)
                    break
        if migra:
            outcome.migra = _migra_round_trip(server, urls, names, migra, same, before, after)
        outcome.seconds = time.monotonic() - started
        return outcome
    finally:
        for name in names.values():
            server.drop(name)


def _migra_round_trip(server: Server, urls: dict, names: dict, migra: str, same, before, after) -> str:
    """`ok` or what failed, for migra's scripts a → b and b → a (each from the schema it starts at)."""
    work = server.create(names["migra"], template=names["a"])
    for step, source, target, model in (("forward", "a", "b", after), ("reverse", "b", "a", before)):
        result = subprocess.run([migra, "--unsafe", "--with-privileges", urls[source], urls[target]],
                                capture_output=True, text=True, check=False, timeout=300)
        if result.returncode not in (0, 2):  # 2: differences found
            return f"{step}: migra failed: {result.stderr.strip().splitlines()[-1:]}"
        try:
            _run_script(work, result.stdout)
        except psycopg.Error as error:
            return f"{step}: error: {describe(error)}"
        difference = same(work, target, model)
        if difference:
            return f"{step}: {difference}"
    return "ok"


def _failure_class(outcome: Outcome) -> str:
    """A short label to count failures by: the step and the kind of the first difference."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "…", outcome.detail)
    return f"{outcome.step}: {text[:70]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=Path, default=PEERS)
    parser.add_argument("--online", action="store_true", help="diff(..., online=True), run as migration files")
    parser.add_argument("--judge", choices=("dump", "model"), default="dump")
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--url", help="admin URL of an existing server (default: an ephemeral cluster)")
    parser.add_argument("--pg-dump", help="pg_dump of that server's major")
    parser.add_argument("--json", type=Path, help="write every case's outcome here")
    parser.add_argument("-v", "--verbose", action="store_true", help="a line per case")
    args = parser.parse_args()
    if not args.peers.is_dir():
        sys.exit(f"diff_peers: no peer suite at {args.peers}")
    selected = [c for c in cases(args.peers) if args.only in c.name]
    migra = shutil.which("migra", path=str(Path(sys.executable).parent)) or shutil.which("migra")  # the venv's first
    cluster = None
    if args.url:
        if not args.pg_dump:
            sys.exit("diff_peers: --url needs --pg-dump")
        server, available = Server(args.url, args.pg_dump), None
    else:
        binaries = choose_binaries()
        cluster = Cluster(binaries).start()
        server, available = Server(cluster.url(), binaries.program("pg_dump")), binaries.extensions
        print(f"PostgreSQL {binaries.major} ({binaries.source}); judge: {args.judge}; online: {args.online}; "
              f"migra: {migra or 'not installed'}")
    results: dict[str, Outcome] = {}
    started = time.monotonic()
    try:
        for case in selected:
            try:
                outcome = round_trip(server, case, online=args.online, judge=args.judge, migra=migra, available=available)
            except Exception as error:  # noqa: BLE001 -- a bug of migguard's (introspection, diff) is a failure of the pair, not of the run
                outcome = Outcome("failed", "migguard", f"{type(error).__name__}: {error}")
            results[case.name] = outcome
            if args.verbose:
                extra = f" | migra: {outcome.migra}" if outcome.migra else ""
                print(f"{outcome.status:10} {case.name} {outcome.step} {outcome.detail[:160]}{extra}", flush=True)
    finally:
        server.drop_roles()
        if cluster:
            cluster.stop()
    loaded = {name: o for name, o in results.items() if o.status != "unloadable"}
    passed = sum(o.status == "ok" for o in loaded.values())
    print(f"\n{len(results)} pairs in {time.monotonic() - started:.0f}s; {len(results) - len(loaded)} do not load on this "
          f"server")
    print(f"migguard: {passed}/{len(loaded)} exact both ways ({100 * passed / max(len(loaded), 1):.1f}%)")
    if migra:
        migra_passed = sum(o.migra == "ok" for o in loaded.values())
        print(f"migra:    {migra_passed}/{len(loaded)} exact both ways")
    for tool in sorted({name.split("/")[0] for name in loaded}):
        mine = [o for name, o in loaded.items() if name.startswith(tool + "/")]
        print(f"  {tool}: {sum(o.status == 'ok' for o in mine)}/{len(mine)}")
    classes = Counter(_failure_class(o) for o in loaded.values() if o.status != "ok")
    if classes:
        print("commonest failures:")
        for label, count in classes.most_common(15):
            print(f"  {count:4} {label}")
    if args.json:
        args.json.write_text(json.dumps({name: o.__dict__ for name, o in results.items()}, indent=1))


if __name__ == "__main__":
    main()
