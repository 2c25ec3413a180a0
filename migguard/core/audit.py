"""Append-only, hash-chained JSONL audit log (SPEC section 6), and the lockdown it drives.

One JSON object per line. Every string that goes in is redacted first (`redact.py`), and a
value under a secret-looking key (`password`, `token`, …) is replaced by `***` whatever it is.

Integrity, checked by `verify`:
- `prev` is the SHA-256 (hex) of the previous line's exact bytes, without its newline
  ("0" * 64 on the first line), so an edited, deleted or inserted entry breaks the chain at the
  line after it;
- `hash` is the SHA-256 of the entry's own content (its JSON without `hash`), so an entry edited
  without recomputing it is reported at the edited line itself, including the last line, which
  no `prev` covers.
A hash chain cannot, by itself, reveal the removal of the newest entries or a tail re-forged
from some line on: live runs also keep the head of the chain in production (`audit_guard.py`).

Appends hold an exclusive `flock` on the file while they read the last line and write theirs,
so concurrent processes never fork the chain. The file is created with mode 0600.

Every entry records `user` (MIGGUARD_USER, a CI identity, or the OS login) and, always, the OS
login `os_user` (from the password database, not from $USER) and `host`.

Lockdown: after `threshold` refused live operations by the same OS login on the same host
within `window` (15 minutes), further live operations are refused until the last of them +
`window`. The identity is one the caller cannot change from the environment, so setting
MIGGUARD_USER does not lift a lockdown. Refusals that no person caused do not count: those by
the lockdown itself (so the "until" the user was told stays true), by a migration lock another
apply holds, and by a broken audit log (`details.reason_kind`, see `refusal_details`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import pwd
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from migguard.core.errors import (
    AuditBroken,
    GateRefused,
    InputError,
    LiveRefused,
    LockHeld,
    MigguardError,
)
from migguard.core.redact import MASK, redact_text

GENESIS = "0" * 64
LOCKDOWN_WINDOW = timedelta(minutes=15)
# "started": a live run took the migration lock and is about to back up and write; its final entry
# (applied, failed, refused, rolled-back) follows, so a "started" alone is a run that was killed.
# "restarted": the first entry of a log that replaced a damaged one (`audit_guard.restart`).
RESULTS = ("started", "applied", "refused", "failed", "dry-run", "rolled-back", "query", "restarted")
FINAL_RESULTS = ("applied", "refused", "failed", "rolled-back")
LIVE_COMMANDS = ("apply", "rollback")
USER_ENV = "MIGGUARD_USER"  # CI identity; the OS login is recorded beside it as `os_user`
# Refusals that are not a person's policy violation, so they never count toward lockdown.
UNCOUNTED_REASONS = ("lockdown", "lock-held", "audit-broken", "preflight")

_SECRET_KEY_PARTS = ("password", "passwd", "pwd", "secret", "token", "api_key", "apikey", "credential")
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """`entries`: entries verified (all of them when ok; those before `broken_line` otherwise)."""

    ok: bool
    entries: int
    broken_line: int | None
    reason: str


def os_user() -> str:
    """The login of the process's real uid, from the password database ($USER/$LOGNAME are not asked)."""
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # no passwd entry (some containers)
        return f"uid:{os.getuid()}"


def host() -> str:
    return socket.gethostname()


def lockdown_identity() -> str:
    """Who a lockdown applies to: the OS login and the host, which MIGGUARD_USER does not change."""
    return f"{os_user()}@{host()}"


def current_user() -> str:
    """The identity audited as `user`: MIGGUARD_USER (a CI identity) or the OS login (lockdown uses `lockdown_identity`)."""
    return os.environ.get(USER_ENV, "").strip() or os_user()


@dataclass(frozen=True, slots=True)
class LogHead:
    """Where a log's chain ends: `log_id` is the SHA-256 of its first line (which log this is),
    `lines` how many entries it has, `head` the SHA-256 of its last line (the next entry's `prev`)."""

    log_id: str
    lines: int
    head: str


class AuditLog:
    """The audit log at `path`; nothing is touched until the first `append`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._finals = 0  # final entries (FINAL_RESULTS) appended through this object
        self._recorded: set[int] = set()  # ids of the errors `live_run` already recorded

    def append(
        self,
        command: str,
        *,
        result: str,
        target: str | None = None,
        fingerprint: str | None = None,
        migrations: Sequence[Any] = (),
        backup_path: str | os.PathLike[str] | None = None,
        backup_sha256: str | None = None,
        tenant: str | None = None,
        details: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> dict:
        """Append one entry and return it as written. `at` (default: now) exists for imports and tests."""
        if result not in RESULTS:
            raise ValueError(f"unknown audit result {result!r} (known: {', '.join(RESULTS)})")
        entry: dict[str, Any] = {
            "time": _format_time(at or datetime.now(UTC)),
            "user": _clean(current_user()),
            "os_user": _clean(os_user()),
            "host": _clean(host()),
            "command": _clean(command),
            "target": _text(target) if target is not None else None,
            "fingerprint": _clean(fingerprint),
            "migrations": _clean(list(migrations)),
            "result": result,
            "backup_path": _clean(os.fspath(backup_path)) if backup_path is not None else None,
            "backup_sha256": _clean(backup_sha256),
            "tenant": _clean(tenant),
            "details": _clean(dict(details or {})),
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as error:
            raise InputError(f"cannot open audit log {self.path}: {error.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            stat = os.fstat(fd)
            if stat.st_mode & 0o777 != 0o600 and stat.st_uid == os.geteuid():
                os.fchmod(fd, 0o600)
            last, complete = _last_line(fd, stat.st_size)
            entry["prev"] = GENESIS if last is None else _sha256(last)
            entry["hash"] = _sha256(_dumps(entry))
            # A last line without its newline is a torn write: keep it (verify reports it) and start afresh.
            data = (b"" if complete else b"\n") + _dumps(entry) + b"\n"
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        except OSError as error:
            raise InputError(f"cannot write audit log {self.path}: {error.strerror}") from None
        finally:
            os.close(fd)  # releases the lock
        if result in FINAL_RESULTS:
            self._finals += 1
        return entry

    @contextmanager
    def live_run(self, command: str, **fields: Any) -> Iterator[None]:
        """Write a "started" entry now (a run killed later still leaves it); when the block then
        fails before it wrote a final entry itself, write one with the real error ("failed", or
        "refused" for a refusal) and re-raise."""
        details = {"live": True, **dict(fields.pop("details", None) or {})}
        self.append(command, result="started", details=details, **fields)
        finals = self._finals
        try:
            yield
        except BaseException as error:
            if self._finals == finals:
                refused = isinstance(error, (LiveRefused, GateRefused))
                self.append(command, result="refused" if refused else "failed", **fields,
                            details=refusal_details(error) if refused else {**details, "error": error_text(error)})
                self._recorded.add(id(error))
            raise

    def failed(self, command: str, error: BaseException, details: Mapping[str, Any] | None = None,
               **fields: Any) -> None:
        """Record a failed live operation with the tool's real error (once: `live_run` and the
        caller's handlers then know it is recorded)."""
        if id(error) not in self._recorded:
            self.append(command, result="failed", details={"live": True, **dict(details or {}),
                                                           "error": error_text(error)}, **fields)
            self._recorded.add(id(error))

    def recorded(self, error: BaseException) -> bool:
        """Whether `live_run` already wrote the final entry for this very error."""
        return id(error) in self._recorded

    def refused(self, command: str, error: BaseException, **fields: Any) -> None:
        """Record a refused live operation, unless `live_run` already recorded this very error."""
        if id(error) not in self._recorded:
            self.append(command, result="refused", details=refusal_details(error), **fields)

    def lines(self) -> list[bytes]:
        """The log's lines as stored (without their newlines); empty when there is no log."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as error:
            raise InputError(f"cannot read audit log {self.path}: {error.strerror}") from None
        lines = data.split(b"\n")
        if lines[-1] == b"":  # the newline that ends the last line (or an empty file)
            lines.pop()
        return lines

    def head(self) -> LogHead | None:
        """Where the chain ends now (None for a missing or empty log); meaningful only when `verify` passes."""
        lines = self.lines()
        return LogHead(_sha256(lines[0]), len(lines), _sha256(lines[-1])) if lines else None

    def entries(self) -> Iterator[dict]:
        """Every entry that parses (a broken line is skipped here; `verify` is what reports it)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as error:
            raise InputError(f"cannot read audit log {self.path}: {error.strerror}") from None
        for line in data.split(b"\n"):
            entry = _parse(line)
            if entry is not None:
                yield entry

    def refusals_since(self, identity: str, since: datetime) -> list[dict]:
        """The refused live operations of `identity` (see `lockdown_identity`) at or after `since`,
        oldest first, without the refusals that do not count (UNCOUNTED_REASONS)."""
        since = _aware(since)
        found = []
        for entry in self.entries():
            when = _entry_time(entry)
            if (_entry_identity(entry) == identity and when is not None and when >= since
                    and _counts_for_lockdown(entry)):
                found.append((when, entry))
        return [entry for _, entry in sorted(found, key=lambda pair: pair[0])]

    def locked_until(self, identity: str, now: datetime, threshold: int,
                     window: timedelta = LOCKDOWN_WINDOW) -> datetime | None:
        """When the lockdown of `identity` ends, or None: `threshold` refusals within `window` lock until the last + window."""
        now = _aware(now)
        # A lock still running at `now` comes from a run whose last refusal is after now - window,
        # so its first refusal is after now - 2 * window.
        times = [t for t in (_entry_time(e) for e in self.refusals_since(identity, now - 2 * window))
                 if t and t <= now]
        count = max(threshold, 1)
        ends = [times[i] + window for i in range(count - 1, len(times))
                if times[i] - times[i - count + 1] <= window and times[i] + window > now]
        return max(ends, default=None)


def check_not_locked(log: AuditLog | str | os.PathLike[str], identity: str, threshold: int, *,
                     now: datetime | None = None, window: timedelta = LOCKDOWN_WINDOW) -> None:
    """Raise LiveRefused (exit 4) when `identity` is locked down, saying until when (UTC)."""
    log = log if isinstance(log, AuditLog) else AuditLog(log)
    until = log.locked_until(identity, now or datetime.now(UTC), threshold, window)
    if until is not None:
        minutes = int(window.total_seconds() // 60)
        raise LiveRefused(
            f"live operations are locked for {identity} until {until.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC "
            f"after {threshold} refused live operation(s) within {minutes} minutes (lockdown_after; "
            f"counted by OS login and host, whatever MIGGUARD_USER says)"
        )


def refusal_details(error: BaseException) -> dict[str, Any]:
    """The details of a refused live operation: the reason, and its kind, which decides whether it
    counts toward lockdown (a held migration lock, a broken audit log or a privilege production does
    not grant is no person's violation). An error class may name its kind (`audit_reason_kind`)."""
    if getattr(error, "audit_reason_kind", None):
        kind = error.audit_reason_kind
    elif isinstance(error, LockHeld):
        kind = "lock-held"
    elif isinstance(error, AuditBroken):
        kind = "audit-broken"
    elif isinstance(error, GateRefused):
        kind = "gate"
    else:
        kind = "refused-live"
    return {"live": True, "reason": error_text(error), "reason_kind": kind}


def error_text(error: BaseException) -> str:
    """The tool's real error as one line: a MigguardError's message, else the exception's type and text."""
    if isinstance(error, MigguardError):
        return error.message
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def verify(path: str | os.PathLike[str]) -> VerifyResult:
    """Check every line's JSON, its own `hash` and its `prev` link; report the first broken line."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return VerifyResult(True, 0, None, f"no audit log at {path} (nothing recorded yet)")
    lines = AuditLog(path).lines()
    expected = GENESIS
    for number, line in enumerate(lines, start=1):
        problem = _line_problem(line, expected, number)
        if problem:
            return VerifyResult(False, number - 1, number, problem)
        expected = _sha256(line)
    return VerifyResult(True, len(lines), None, "empty audit log" if not lines else "hash chain intact")


def _line_problem(line: bytes, expected_prev: str, number: int) -> str | None:
    if not line.strip():
        return "empty line"
    entry = _parse(line)
    if entry is None:
        return "not a valid JSON object (truncated or edited)"
    prev, own = entry.get("prev"), entry.get("hash")
    if not isinstance(prev, str) or not isinstance(own, str):
        return "entry has no prev/hash fields (not written by migguard, or edited)"
    content = {key: value for key, value in entry.items() if key != "hash"}
    if _sha256(_dumps(content)) != own:
        return "entry was edited: its content no longer matches its hash"
    if prev != expected_prev:
        if number == 1:
            return "first entry does not start the chain: entries before it were deleted, or it was forged"
        return f"prev does not match line {number - 1}: an entry was edited, deleted or inserted before this one"
    return None


def _last_line(fd: int, size: int) -> tuple[bytes | None, bool]:
    """The last line's bytes (None for an empty file) and whether the file ends with a newline."""
    if size == 0:
        return None, True
    complete = os.pread(fd, 1, size - 1) == b"\n"
    end = size - 1 if complete else size
    tail, position = b"", end
    while position > 0:
        start = max(0, position - _CHUNK)
        chunk = os.pread(fd, position - start, start)
        tail = chunk + tail
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            return tail[newline + 1:], complete
        position = start
    return tail, complete


def _parse(line: bytes) -> dict | None:
    try:
        value = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _dumps(entry: Mapping[str, Any]) -> bytes:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _clean(value: Any) -> Any:
    """JSON-safe copy with every string redacted; values under secret-looking keys masked."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        cleaned = {}
        for key, item in value.items():
            name = _text(key)
            secret = any(part in name.lower() for part in _SECRET_KEY_PARTS)
            cleaned[name] = MASK if secret and item not in (None, "") else _clean(item)
        return cleaned
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_clean(item) for item in value]
    if isinstance(value, datetime):
        return _format_time(value)
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    return _text(value)


def _text(value: Any) -> str:
    """Redacted text that encodes as UTF-8 (a lone surrogate from an undecodable file name is escaped)."""
    return redact_text(str(value)).encode("utf-8", "backslashreplace").decode("utf-8")


def _format_time(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _entry_time(entry: Mapping[str, Any]) -> datetime | None:
    try:
        return _aware(datetime.fromisoformat(entry["time"]))
    except (KeyError, TypeError, ValueError):
        return None


def _entry_identity(entry: Mapping[str, Any]) -> str:
    """`os_user@host` of an entry (entries older than `os_user` recorded it only when it differed from `user`)."""
    return f"{entry.get('os_user') or entry.get('user')}@{entry.get('host')}"


def _counts_for_lockdown(entry: Mapping[str, Any]) -> bool:
    """A refused live operation that a person caused (see UNCOUNTED_REASONS)."""
    if entry.get("result") != "refused":
        return False
    details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
    if details.get("lockdown") is True or details.get("reason_kind") in UNCOUNTED_REASONS:
        return False
    command = str(entry.get("command") or "").removeprefix("migguard ").split(" ", 1)[0]
    return details.get("live") is True or (command in LIVE_COMMANDS and details.get("confirm_live") is True)
