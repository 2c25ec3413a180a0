"""Errors the CLI turns into one redacted line on stderr and a documented exit code."""

from __future__ import annotations

from migguard.core.exit_codes import ExitCode
from migguard.core.redact import redact_text


class MigguardError(Exception):
    """Base error: carries its exit code; its message is redacted on construction."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, detail: str | None = None) -> None:
        self.message = redact_text(message)
        # Lines shown under the one-line error, indented (e.g. the SQL that undoes what stayed applied).
        self.detail = redact_text(detail) if detail else None
        super().__init__(self.message)


class InputError(MigguardError):
    """A missing, unreadable or malformed input file or argument."""

    exit_code = ExitCode.USAGE


class ConfigError(MigguardError):
    """A bad configuration file or value."""

    exit_code = ExitCode.USAGE


class DatabaseError(MigguardError):
    """A database operation failed (connect, migration, verification)."""

    exit_code = ExitCode.DATABASE


class GateRefused(MigguardError):
    """The gate refused (plan mismatch, drift, RLS failure)."""

    exit_code = ExitCode.GATE_REFUSED


class LiveRefused(MigguardError):
    """Refused to run live: no --confirm-live, lock held, backup failed, lockdown."""

    exit_code = ExitCode.REFUSED_LIVE


class LockHeld(LiveRefused):
    """Another apply or rollback holds the migration lock: contention, not a policy refusal."""


class AuditBroken(LiveRefused):
    """The audit log fails verification or disagrees with the head production recorded."""
