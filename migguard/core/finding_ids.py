"""One registry of finding ids: every id a command reports, with its default severity, summary,
family, origin, docs and destructive flag. Config validation, `migguard rules` and `explain`, the
README tables, SARIF rule metadata and `[tool.migguard.accept]` read it through `finding_kind` and
`finding_kinds`.

The capabilities own their ids and docs (a lint rule's module, `rls/findings.py`,
`scan/findings.py`); each declares them as a `FindingProvider`. The package root names the
providers (`migguard.FINDING_PROVIDERS`, "module:attribute" as Python entry points are spelled) and
this module loads them on the first lookup. So core imports nothing above it, yet config validation
and the renderers see every id whichever command, test or script runs them, and `--version` loads
none of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import import_module
from typing import Literal

from migguard.core.findings import Severity

Origin = Literal["lint", "database", "scan"]
ORIGINS: tuple[Origin, ...] = ("lint", "database", "scan")
_ID = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class FindingKind:
    """A finding id: its default severity, one-line summary, family (the group `migguard rules` and the
    README show: `destructive`, `locks`, …, `rls-catalog`, `plan`, `app-scan`), origin (what reports it:
    the lint rules, a database step, or scan-app), docs (markdown, in the sections of a rule's docs)
    and whether `--allow-destructive` governs it."""

    id: str
    default_severity: Severity
    summary: str
    family: str
    origin: Origin
    doc: str
    destructive: bool = False


@dataclass(frozen=True, slots=True)
class FindingProvider:
    """The ids a capability documents, the families they fall in, and the ids documented by another
    provider that it reports too (the RLS audit reports `require-rls-enabled`, a lint rule)."""

    origin: Origin
    families: tuple[str, ...]
    kinds: tuple[FindingKind, ...]
    reports_too: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Registry:
    """The documented ids (sorted), and the ids each origin reports."""

    by_id: dict[str, FindingKind]
    reported_by: dict[Origin, frozenset[str]]


# The sections of every finding's docs, in order (a lint rule's docstring, a database finding's doc).
SECTIONS = ("What it does", "Why it is dangerous", "Bad", "Good", "When it does not fire", "References")


def sql_block(doc: str, section: str) -> str:
    """The ```sql block of a doc section ("Bad" or "Good"); ValueError when there is none."""
    match = re.search(rf"^## {section}\n+```sql\n(.*?)\n```", doc, re.MULTILINE | re.DOTALL)
    if match is None:
        raise ValueError(f"section {section!r} has no ```sql block")
    return match.group(1)


# The PostgreSQL manual: the reference section of every database finding's docs.
PG_DOCS = "https://www.postgresql.org/docs/current/"


def finding_doc(what: str, why: str, bad: str, good: str, quiet: str, references: tuple[str, ...]) -> str:
    """A finding's docs in the six sections every id's docs have (SECTIONS), Bad and Good as SQL."""
    links = "\n".join(f"- {link}" for link in references)
    return (f"## What it does\n{what.strip()}\n\n## Why it is dangerous\n{why.strip()}\n\n"
            f"## Bad\n```sql\n{bad.strip()}\n```\n\n## Good\n```sql\n{good.strip()}\n```\n\n"
            f"## When it does not fire\n{quiet.strip()}\n\n## References\n{links}\n")


_registry: Registry | None = None


def finding_kind(finding_id: str) -> FindingKind | None:
    """The documented finding id, or None when no command reports it."""
    return _loaded().by_id.get(finding_id)


def finding_kinds(origin: Origin | None = None) -> tuple[FindingKind, ...]:
    """Every documented id (or those of one origin), sorted by id."""
    kinds = _loaded().by_id.values()
    return tuple(kind for kind in kinds if origin is None or kind.origin == origin)


def reported_by(origin: Origin) -> frozenset[str]:
    """The ids `origin` reports: those it documents and those documented elsewhere that it reports too."""
    return _loaded().reported_by[origin]


def build(providers: Iterable[FindingProvider]) -> Registry:
    """The registry of these providers; ValueError when an id is declared twice, is not kebab-case,
    falls outside its provider's origin or families, or is reported-too without being documented."""
    by_id: dict[str, FindingKind] = {}
    reported: dict[Origin, set[str]] = {origin: set() for origin in ORIGINS}
    providers = tuple(providers)
    for provider in providers:
        for kind in provider.kinds:
            if not _ID.fullmatch(kind.id):
                raise ValueError(f"finding id {kind.id!r} is not kebab-case")
            if kind.id in by_id:
                raise ValueError(f"finding id {kind.id!r} is declared twice")
            if kind.origin != provider.origin or kind.family not in provider.families:
                raise ValueError(f"finding id {kind.id!r}: origin {kind.origin!r} / family {kind.family!r} is not "
                                 f"one of its provider's ({provider.origin!r}: {', '.join(provider.families)})")
            if not kind.summary.strip() or not kind.doc.strip():
                raise ValueError(f"finding id {kind.id!r} has no summary or no docs")
            by_id[kind.id] = kind
            reported[provider.origin].add(kind.id)
    for provider in providers:
        for finding_id in provider.reports_too:
            if finding_id not in by_id:
                raise ValueError(f"{provider.origin} reports {finding_id!r}, which no provider documents")
            reported[provider.origin].add(finding_id)
    return Registry(dict(sorted(by_id.items())), {origin: frozenset(ids) for origin, ids in reported.items()})


def _loaded() -> Registry:
    global _registry
    if _registry is None:
        import migguard

        _registry = build(_provider(entry) for entry in migguard.FINDING_PROVIDERS)
    return _registry


def _provider(entry: str) -> FindingProvider:
    module, _, attribute = entry.partition(":")
    return getattr(import_module(module), attribute)
