"""`migguard baseline`: adopt an existing production (Flyway's baseline, Atlas's `--baseline`).

Production's current schema becomes the first migration of the write path, numbered for its
layout as `migguard new` numbers a first migration, and is recorded as applied, so that `plan`
and `status` replay it on the shadow and see production with no drift, and `new` numbers after it.

In order, stopping at the first refusal:
1. refused (exit 2) when the migrations folder already holds migration files or production's
   history already records migrations: a baseline is the first migration, as Flyway refuses a
   non-empty history. There is no flag to force it: a history that exists is the one to keep;
2. live: the audit log verifies and holds production's head, and the caller is not locked down
   (`guard_live`, as apply); the dry run checks the same without writing;
3. live: apply's migration lock is taken, and step 1 is checked again under it;
4. the schema is captured (`capture.py`, with the one lint directive of `ignores.py`) and proven
   (`proof.py`): replayed on an empty shadow database, the file must reproduce production's schema
   exactly, else it is refused (exit 1) with the differences;
5. the dry run stops here and shows what it would write; with --confirm-live the file is written
   and recorded in the history (the row apply writes, its checksum the file's), in the history
   transaction: a failure leaves neither the row nor the file. The audit log gets apply's entries.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from migguard.apply.audit_guard import check_log, guard_live
from migguard.apply.runner import ApplyLock
from migguard.baseline.capture import Capture, capture
from migguard.baseline.ignores import file_ignore
from migguard.baseline.proof import Proof, prove
from migguard.core.audit import (
    AuditLog,
    check_not_locked,
    current_user,
    lockdown_identity,
)
from migguard.core.config import Config, production_url, secret
from migguard.core.errors import DatabaseError, GateRefused, InputError
from migguard.core.identifiers import comment_safe
from migguard.core.redact import redact_text
from migguard.core.sources import Migration, discover, sql_files
from migguard.pg.connect import connect, describe
from migguard.pg.history import AppliedMigration, ensure_table, read_applied, record
from migguard.pg.progress import ensure_table as ensure_progress_table
from migguard.pg.shadow import ShadowServer
from migguard.project.new import first_migration, write_files, write_path
from migguard.schema.model import SchemaModel

Progress = Callable[[str], None]
NAME = "baseline"
DOWN = ("-- migguard baseline: not reversible by migguard. Production held this schema before migguard;\n"
        "-- to remove it, restore a backup or drop the objects by hand.\n")
SHOWN_DIFFERENCES = 20


@dataclass(frozen=True)
class BaselineOptions:
    confirm_live: bool = False
    prod_url: str | None = None  # overrides PG_PROD_URL (tests)
    shadow_url: str | None = None  # overrides PG_SHADOW_URL (tests)


@dataclass
class BaselineOutcome:
    live: bool
    version: str
    files: list[Path]  # where the migration is (live) or would be (dry run) written
    size: int  # bytes of the forward script
    checksum: str
    counts: dict[str, int] = field(default_factory=dict)
    server_version: str = ""
    roles: tuple[str, ...] = ()
    text: str = ""  # the forward script

    def summary(self) -> str:
        objects = ", ".join(f"{n} {kind}" for kind, n in self.counts.items())
        where = ", ".join(_shown(p) for p in self.files)
        return (f"{where} ({self.size:,} bytes, version {self.version}, checksum {self.checksum[:12]}…): "
                f"{objects}; {len(self.roles)} role(s) created NOLOGIN where missing")


def _shown(path: Path) -> str:
    """A path relative to the working directory when it lies below it, as `new` and lint show paths."""
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def run_baseline(options: BaselineOptions, config: Config, progress: Progress = lambda _: None) -> BaselineOutcome:
    prod_url = production_url(config, options.prod_url)
    root = Path(config.root)
    directory = write_path(root, config.migrations, "migrations")
    audit = AuditLog(root / config.audit_log)
    target = redact_text(prod_url)
    _refuse_existing(directory, config, prod_url)
    with tempfile.TemporaryDirectory(prefix="migguard-baseline-") as staging:
        if not options.confirm_live:  # the same checks, read only
            check_log(audit, prod_url, config.history_table)
            check_not_locked(audit, lockdown_identity(), config.lockdown_after)
            return _capture_and_prove(options, config, prod_url, directory, Path(staging), progress)
        audit = guard_live(audit, NAME, prod_url, config.history_table, config.lockdown_after)
        with ApplyLock(prod_url, config.history_table):
            _refuse_existing(directory, config, prod_url)  # again, under the lock: another run may have won
            try:
                outcome = _capture_and_prove(options, config, prod_url, directory, Path(staging), progress)
            except GateRefused as refused:
                audit.refused(NAME, refused, target=target)
                raise
            details = {"live": True, "files": [str(p) for p in outcome.files], "checksum": outcome.checksum,
                       "server_version": outcome.server_version, "objects": outcome.counts}
            with audit.live_run(NAME, target=target, migrations=[outcome.version], details=details):
                _write_and_record(config, prod_url, directory, Path(staging), outcome)
    audit.append(NAME, result="applied", target=target, migrations=[outcome.version], details=details)
    return outcome


def _refuse_existing(directory: Path, config: Config, prod_url: str) -> None:
    """Step 1 of the module docstring (exit 2, nothing written)."""
    existing = sql_files(directory) if directory.is_dir() else []
    if existing:
        raise InputError(f"{config.migrations} already holds {len(existing)} migration file(s) "
                         f"({existing[0].name} first): a baseline is the first migration of a project; run it "
                         "in an empty migrations folder, or keep these migrations and apply them instead")
    try:
        with connect(prod_url) as conn:
            applied = read_applied(conn, config.history_table)
            conn.rollback()
    except psycopg.Error as error:
        raise DatabaseError(f"cannot read production's history {config.history_table}: {describe(error)}") from None
    if applied:
        raise InputError(f"production's history {config.history_table} already records {len(applied)} "
                         f"migration(s) ({applied[0].version} first): a baseline is only for a production that has "
                         "no migguard history; use plan and apply from here")


def _capture_and_prove(options: BaselineOptions, config: Config, prod_url: str, directory: Path, staging: Path,
                       progress: Progress) -> BaselineOutcome:
    """Capture production's schema, stage the file(s) in `staging` as they will be written into
    `directory` (so the proof replays, and the history records, exactly those bytes), and prove it."""
    own = config.history_path[0]
    now = datetime.now(UTC).replace(microsecond=0)
    progress("baseline: [1/3] capture: pg_dump --schema-only of production (migguard's own schema left out)")
    captured = capture(prod_url, own, config.history_table, now)
    layout = config.layout if config.layout != "auto" else "plain"  # the folder is empty: `new`'s default
    target = first_migration(directory, layout, NAME, "", "", now)[1][0][0]  # where it goes (nothing written)
    ignore = file_ignore(target, directory, captured.text, config)
    if ignore is not None:
        captured = captured.with_header_line(ignore)
    migration, files = _stage(staging, directory, layout, captured, now)
    progress("baseline: [2/3] prove: replay it on an empty shadow database and compare it with production's "
             "schema restored on the same server")
    with ShadowServer(options.shadow_url or secret("PG_SHADOW_URL", config), Path(config.root) / ".migguard",
                      production=prod_url) as shadow:
        proof = prove(shadow, migration, prod_url, own)
    _refuse_unproven(proof)
    progress("baseline: [3/3] proven: replayed, it reproduces production's schema"
             + ("" if options.confirm_live else " (dry run: nothing is written)"))
    text = migration.up_sql()
    return BaselineOutcome(options.confirm_live, migration.version, files, len(text.encode("utf-8")),
                           migration.checksum(), counts(proof.production), captured.server_version, captured.roles,
                           text)


def _stage(staging: Path, directory: Path, layout: str, captured: Capture,
           now: datetime) -> tuple[Migration, list[Path]]:
    """Write the migration into `staging` as it will be written into `directory`; read it back as
    the history will (its version, name and checksum), and return it with its final paths."""
    new_dir, files = first_migration(staging, layout, NAME, captured.text, DOWN, now)
    write_files(staging, new_dir, files)
    found = discover(staging, layout)
    if len(found) != 1:  # a defect, not bad input: the staging folder holds exactly what was written
        raise RuntimeError(f"the staged baseline reads back as {len(found)} migrations")
    return found[0], [directory / path.relative_to(staging) for path, _text in files]


def _refuse_unproven(proof: Proof) -> None:
    if proof.replay_error is not None:
        raise GateRefused(f"the baseline does not replay on an empty database, so it cannot stand for production: "
                          f"{proof.replay_error}; nothing was written")
    if proof.differences:
        shown = [c.describe() for c in proof.differences[:SHOWN_DIFFERENCES]]
        more = len(proof.differences) - len(shown)
        raise GateRefused(f"the baseline, replayed on an empty database, differs from production in "
                          f"{len(proof.differences)} object(s): nothing was written",
                          detail="\n".join(shown + ([f"... and {more} more"] if more > 0 else [])))


def _write_and_record(config: Config, prod_url: str, directory: Path, staging: Path,
                      outcome: BaselineOutcome) -> None:
    """Record the history row and write the file(s) in one step: the row commits only once the
    files are written, and the files are removed when the commit fails."""
    started, clock = datetime.now(UTC), time.monotonic()
    written: list[Path] = []
    with connect(prod_url) as conn:
        try:
            with conn.transaction():
                ensure_table(conn, config.history_table)
                ensure_progress_table(conn, config.history_table)
                record(conn, config.history_table, AppliedMigration(
                    outcome.version, NAME, outcome.checksum, None, current_user(), started,
                    int((time.monotonic() - clock) * 1000)))
                written = _copy(staging, directory, outcome.files)
        except psycopg.Error as error:
            _remove(written)
            raise DatabaseError(f"recording the baseline in {config.history_table} failed: {describe(error)}; "
                                "nothing was recorded or written") from None
        except BaseException:
            _remove(written)
            raise


def _copy(staging: Path, directory: Path, targets: list[Path]) -> list[Path]:
    """Copy the staged file(s) into the write path with `new`'s exclusive writes; the paths written."""
    texts = [(target, (staging / target.relative_to(directory)).read_bytes().decode("utf-8"))  # bytes as proven
             for target in targets]
    new_dir = targets[0].parent if targets[0].parent != directory else None
    write_files(directory, new_dir, texts)
    return ([new_dir] if new_dir else []) + targets


def _remove(paths: list[Path]) -> None:
    for path in reversed(paths):
        try:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        except OSError:
            pass


def counts(model: SchemaModel) -> dict[str, int]:
    """How many objects of each kind the baseline holds (for the summary and the audit)."""
    tables = list(model.tables.values())
    return {
        "schemas": len(model.schemas),
        "tables": len(tables),
        "views": len(model.views),
        "sequences": len(model.sequences),
        "functions": len(model.functions),
        "indexes": sum(len(t.indexes) for t in tables) + sum(len(v.indexes) for v in model.views.values()),
        "policies": sum(len(t.policies) for t in tables),
        "extensions": len(model.extensions),
    }


def dry_run_text(outcome: BaselineOutcome) -> str:
    """What the dry run shows on stdout: what it would write, then the file itself."""
    return (f"-- DRY RUN: nothing is written. --confirm-live would write {comment_safe(outcome.summary())}\n"
            f"-- and record version {outcome.version} as applied in production.\n" + outcome.text)
