"""The results `migguard status` and `migguard diff` return: plain data the report renderers
(migguard/report/status.py, diff.py) turn into text and JSON. Pure: no database I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field

from migguard.schema.diff import Change, forward_script, reverse_script


@dataclass(frozen=True)
class PartWayStatus:
    """A pending migration production ran part of: statements done of total, and why it stopped."""

    version: str
    done: list[int]
    total: int
    last_failure: str | None = None  # "<time>: <first line of the error>" from the audit log

    def describe(self) -> str:
        failure = f"; last failure {self.last_failure}" if self.last_failure else ""
        return (f"{self.version} ran part way: {len(self.done)} of {self.total} statement(s) done "
                f"({', '.join(map(str, self.done))}); apply resumes at the next{failure}")


@dataclass
class Status:
    """What `migguard status` found: the history against the files, and production's drift."""

    target: str
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)  # applied, but the file's checksum changed since
    missing: list[str] = field(default_factory=list)  # applied in production, no file any more
    drift: list[Change] = field(default_factory=list)
    part_way: list[PartWayStatus] = field(default_factory=list)
    part_way_edited: list[str] = field(default_factory=list)  # why a recorded statement no longer matches
    drift_checked: bool = True  # False with --no-drift: `drift` is empty because nobody looked

    @property
    def ok(self) -> bool:
        return not (self.edited or self.missing or self.drift or self.part_way_edited)


@dataclass
class Comparison:
    """What `migguard diff` found: the changes that turn `source` into `target`."""

    source: str
    target: str
    changes: list[Change]

    @property
    def forward_sql(self) -> str:
        return forward_script(self.changes)

    @property
    def rollback_sql(self) -> str:
        return reverse_script(self.changes)[0]
