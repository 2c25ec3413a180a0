"""The backup taken before anything is written to production: pg_dump -Fc, verified readable.

No backup, no apply: a pg_dump that fails, a directory that cannot be written or an archive
pg_restore cannot list refuses the live run (exit 4). The file name carries the time and the
plan fingerprint, never the target. Lossy changes are restored from this file by `rollback`.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from migguard.db.tools import pg_dump_custom, pg_restore_list, server_major
from migguard.errors import DatabaseError, LiveRefused


@dataclass(frozen=True, slots=True)
class Backup:
    path: Path
    sha256: str
    tables: tuple[str, ...]  # empty: the whole database
    seconds: float


def backup_name(fingerprint: str, stamp: str | None = None) -> str:
    stamp = stamp or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return f"{stamp}-{fingerprint[:12]}"


def take_backup(url: str, directory: Path, fingerprint: str, tables: list[str] | None = None,
                stamp: str | None = None) -> Backup:
    """pg_dump -Fc into `directory`, checked with pg_restore --list; refuses (exit 4) on any failure."""
    started = time.monotonic()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".write-test-{fingerprint[:12]}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise LiveRefused(f"backup directory {directory} is not writable ({error.strerror}): no backup, no apply") from None
    path = directory / f"{backup_name(fingerprint, stamp)}.dump"
    try:
        pg_dump_custom(url, path, tables)
        contents = pg_restore_list(path, server_major(url))
    except DatabaseError as error:
        path.unlink(missing_ok=True)
        raise LiveRefused(f"backup failed, nothing was applied: {error.message}") from None
    if "TABLE" not in contents and tables:
        path.unlink(missing_ok=True)
        raise LiveRefused("backup failed, nothing was applied: the archive lists none of the tables")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    path.chmod(0o600)
    return Backup(path, digest.hexdigest(), tuple(tables or ()), time.monotonic() - started)
