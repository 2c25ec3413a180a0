"""The backup taken before anything is written to production: pg_dump -Fc, verified readable.

No backup, no apply: a pg_dump that fails, a directory that cannot be written or an archive
pg_restore cannot list refuses the live run (exit 4). The file name carries the time and the
plan fingerprint, never the target. Lossy changes are restored from this file by `rollback`.

The dump is private from its first byte: the directory is 0700 and the file is created 0600
before pg_dump writes into it (pg_dump itself runs under umask 077). It is written as
`<name>.dump.<pid>.partial` and renamed to `<name>.dump` only once pg_restore has read it back,
so a dump cut short by a kill is never mistaken for a backup, and the next backup into the same
directory removes it (its process is gone). pg_dump dies with migguard (see db/tools.py); SIGTERM
and Ctrl-C during the dump stop it, remove the partial file and refuse the run.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from migguard.core.errors import DatabaseError, LiveRefused
from migguard.pg.tools import pg_dump_custom, pg_restore_list, server_major

_PARTIAL = re.compile(r"\.dump\.(?P<pid>[0-9]+)\.partial$")


@dataclass(frozen=True, slots=True)
class Backup:
    path: Path
    sha256: str
    tables: tuple[str, ...]  # empty: the whole database
    seconds: float
    stale_removed: tuple[Path, ...] = ()  # partial dumps of killed runs, removed before this one


def audit_fields(backup: Backup | None) -> dict:
    """The audit entry's backup fields: where the dump is and its digest (both None without one)."""
    return {"backup_path": str(backup.path) if backup else None, "backup_sha256": backup.sha256 if backup else None}


class BackupFailed(LiveRefused):
    """No backup, so nothing was applied (exit 4). `partial` is the file pg_dump was writing (removed),
    `reason` one of: pg_dump, verify, directory, interrupted; `stderr` the tool's whole stderr, redacted
    (also the error's detail); `stale_removed` the leftovers of killed runs removed first."""

    def __init__(self, message: str, *, reason: str, partial: Path | None = None, stderr: str | None = None,
                 stale_removed: tuple[Path, ...] = ()) -> None:
        super().__init__(message, detail=stderr)
        self.reason = reason
        self.partial = partial
        self.stderr = self.detail
        self.stale_removed = stale_removed


class _Interrupted(BaseException):
    """SIGTERM during the dump, raised in the main thread so the dump is stopped and cleaned up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.name = signal.Signals(signum).name


def backup_name(fingerprint: str, stamp: str | None = None) -> str:
    stamp = stamp or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return f"{stamp}-{fingerprint[:12]}"


def private_directory(directory: Path) -> None:
    """Create `directory` 0700, or make it 0700 when it exists; refuses (exit 4) when it cannot."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)
        probe = directory / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise BackupFailed(f"backup directory {directory} is not writable ({error.strerror}): no backup, no apply",
                           reason="directory") from None


def remove_stale_partials(directory: Path) -> tuple[Path, ...]:
    """Partial dumps whose process is gone (a killed run): removed; a running backup's is kept."""
    removed = []
    for path in sorted(directory.glob("*.dump.*.partial")):
        match = _PARTIAL.search(path.name)
        if match is None or _alive(int(match["pid"])):
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return tuple(removed)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # a leftover of an earlier process that had this id
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def take_backup(url: str, directory: Path, fingerprint: str, tables: list[str] | None = None,
                stamp: str | None = None) -> Backup:
    """pg_dump -Fc into `directory`, checked with pg_restore --list; refuses (exit 4) on any failure,
    leaving no partial file behind."""
    started = time.monotonic()
    private_directory(directory)
    stale = remove_stale_partials(directory)
    path = directory / f"{backup_name(fingerprint, stamp)}.dump"
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        with _stopped_by_sigterm():
            _create_private(partial)
            pg_dump_custom(url, partial, tables)
            contents = pg_restore_list(partial, server_major(url))
        if "TABLE" not in contents and tables:
            raise BackupFailed("backup failed, nothing was applied: the archive lists none of the tables",
                               reason="verify", partial=partial, stale_removed=stale)
        digest = hashlib.sha256()
        with partial.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        partial.replace(path)
    except DatabaseError as error:
        _discard(partial)
        raise BackupFailed(f"backup failed, nothing was applied (partial dump removed): {error.message}",
                           reason="pg_dump", partial=partial, stderr=error.detail, stale_removed=stale) from None
    except OSError as error:
        _discard(partial)
        raise BackupFailed(f"backup failed, nothing was applied: cannot write {partial.name} ({error.strerror})",
                           reason="directory", partial=partial, stale_removed=stale) from None
    except (_Interrupted, KeyboardInterrupt) as stop:
        _discard(partial)
        how = stop.name if isinstance(stop, _Interrupted) else "SIGINT"
        raise BackupFailed(f"backup interrupted by {how}: pg_dump stopped, partial dump removed, nothing was applied",
                           reason="interrupted", partial=partial, stale_removed=stale) from None
    except BaseException:
        _discard(partial)
        raise
    return Backup(path, digest.hexdigest(), tuple(tables or ()), time.monotonic() - started, stale)


def _create_private(path: Path) -> None:
    """The dump file, created empty and 0600 before pg_dump opens it (never a symlink's target)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600))


def _discard(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


@contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    """While the dump runs, SIGTERM raises in the main thread (the default would end migguard at
    once, before the partial file is removed). Elsewhere (another thread) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        raise _Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
