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
from some line on; keep a copy of the last line's hash elsewhere for that.

Appends hold an exclusive `flock` on the file while they read the last line and write theirs,
so concurrent processes never fork the chain. The file is created with mode 0600.

Lockdown: after `threshold` refused live operations by the same user within `window`
(15 minutes), further live operations are refused until the last of them + `window`. A
refusal caused by the lockdown itself should be audited with `details={"live": True,
"lockdown": True}`: it is recorded but does not extend the lockdown, so the "until" that the
user was told stays true.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import math
import os
import socket
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from migguard.errors import InputError, LiveRefused
from migguard.redact import MASK, redact_text

GENESIS = "0" * 64
LOCKDOWN_WINDOW = timedelta(minutes=15)
RESULTS = ("applied", "refused", "failed", "dry-run", "rolled-back", "query")
LIVE_COMMANDS = ("apply", "rollback")
USER_ENV = "MIGGUARD_USER"  # CI identity; the OS login is recorded beside it as `os_user`

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
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return f"uid:{os.getuid()}"


def current_user() -> str:
    """The identity audited and locked down: MIGGUARD_USER (a CI identity) or the OS login."""
    return os.environ.get(USER_ENV, "").strip() or os_user()


class AuditLog:
    """The audit log at `path`; nothing is touched until the first `append`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

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
        who, login = current_user(), os_user()
        entry: dict[str, Any] = {
            "time": _format_time(at or datetime.now(UTC)),
            "user": _clean(who),
            **({"os_user": _clean(login)} if login != who else {}),
            "host": _clean(socket.gethostname()),
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
        return entry

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

    def refusals_since(self, user: str, since: datetime) -> list[dict]:
        """The user's refused live operations at or after `since`, oldest first (lockdown refusals excluded)."""
        since = _aware(since)
        found = []
        for entry in self.entries():
            when = _entry_time(entry)
            if entry.get("user") == user and when is not None and when >= since and _counts_for_lockdown(entry):
                found.append((when, entry))
        return [entry for _, entry in sorted(found, key=lambda pair: pair[0])]

    def locked_until(self, user: str, now: datetime, threshold: int,
                     window: timedelta = LOCKDOWN_WINDOW) -> datetime | None:
        """When the user's lockdown ends, or None: `threshold` refusals within `window` lock until the last + window."""
        now = _aware(now)
        # A lock still running at `now` comes from a run whose last refusal is after now - window,
        # so its first refusal is after now - 2 * window.
        times = [t for t in (_entry_time(e) for e in self.refusals_since(user, now - 2 * window)) if t and t <= now]
        count = max(threshold, 1)
        ends = [times[i] + window for i in range(count - 1, len(times))
                if times[i] - times[i - count + 1] <= window and times[i] + window > now]
        return max(ends, default=None)


def check_not_locked(log: AuditLog | str | os.PathLike[str], user: str, threshold: int, *,
                     now: datetime | None = None, window: timedelta = LOCKDOWN_WINDOW) -> None:
    """Raise LiveRefused (exit 4) when the user is locked down, saying until when (UTC)."""
    log = log if isinstance(log, AuditLog) else AuditLog(log)
    until = log.locked_until(user, now or datetime.now(UTC), threshold, window)
    if until is not None:
        minutes = int(window.total_seconds() // 60)
        raise LiveRefused(
            f"live operations are locked for user '{user}' until {until.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC "
            f"after {threshold} refused live operation(s) within {minutes} minutes (lockdown_after)"
        )


def verify(path: str | os.PathLike[str]) -> VerifyResult:
    """Check every line's JSON, its own `hash` and its `prev` link; report the first broken line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return VerifyResult(True, 0, None, f"no audit log at {path} (nothing recorded yet)")
    except OSError as error:
        raise InputError(f"cannot read audit log {path}: {error.strerror}") from None
    lines = data.split(b"\n")
    if lines[-1] == b"":  # the newline that ends the last line (or an empty file)
        lines.pop()
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


def _counts_for_lockdown(entry: Mapping[str, Any]) -> bool:
    """A refused live operation that a person caused (not a refusal by the lockdown itself)."""
    if entry.get("result") != "refused":
        return False
    details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
    if details.get("lockdown") is True:
        return False
    command = str(entry.get("command") or "").removeprefix("migguard ").split(" ", 1)[0]
    return details.get("live") is True or (command in LIVE_COMMANDS and details.get("confirm_live") is True)
