"""Production's schema as the text of a first migration: `pg_dump --schema-only`, made a normal
migration file.

What the dump keeps and drops, and why:
- no ownership (`--no-owner`): the file is replayed on scratch databases (the shadow, a developer's
  database) as whatever role runs it, and objects belong to that role, as with any migration;
- privileges and row-level security (flags, policies) are kept: they are the tenant isolation;
- no tablespaces, security labels or subscriptions: a fresh server has none of those tablespaces or
  label providers, and creating a subscription would connect to its publisher;
- migguard's own schema (the history, its progress table, the audit head) is excluded: it is
  migguard's bookkeeping, not the application's.

The roles the grants and policies name are cluster-wide, so a fresh database on another server
lacks them and the GRANTs would fail: the file first creates every missing one, NOLOGIN (a role
that can own and be granted, but with which nobody can log in: migguard never creates accounts or
passwords), and leaves existing roles as they are, so running it again, or where they exist, is a
no-op.

The session settings pg_dump writes for psql (`SET statement_timeout = 0`, `search_path` emptied
and so on) are removed: the dump qualifies every name, and apply sets its own timeouts. The one
that matters, `check_function_bodies = false` (a SQL function may be dumped before the table it
reads), becomes `SET LOCAL`, so it ends with the migration's transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

import pglast

from migguard.core.identifiers import comment_safe, name_pattern, quote_literal
from migguard.core.redact import redact_text
from migguard.pg.connect import connect
from migguard.pg.tools import pg_dump_schema

DUMP_FLAGS = ("--no-owner", "--no-tablespaces", "--no-security-labels", "--no-subscriptions")
# Roles that grants (a) and policies (r) of this database name: pg_shdepend records exactly those.
_ROLES_SQL = """
SELECT DISTINCT r.rolname FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid
WHERE d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND d.refclassid = 'pg_authid'::regclass AND d.deptype IN ('a', 'r') AND r.rolname !~ '^pg_'
ORDER BY 1
"""
_SETTINGS = "SET LOCAL check_function_bodies = false;  -- a function may be created before the table it reads\n\n"
_LEADING_COMMENTS = re.compile(r"(\s*--[^\n]*\n)*\s*")
_SESSION_SETTING = re.compile(r"^(SET\s+\w+\s*(=|TO)\s*.*|SELECT\s+pg_catalog\.set_config\s*\(.*\))$",
                              re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Capture:
    """The first migration's text (its header comments, then the SQL) and what it was made from."""

    header: str
    body: str
    server_version: str  # production's `server_version`, e.g. "15.8"
    roles: tuple[str, ...]  # roles the file creates when missing

    @property
    def text(self) -> str:
        return self.header + self.body

    def with_header_line(self, line: str) -> Capture:
        """The same capture with `line` (a comment, e.g. a lint directive) ending its header."""
        return replace(self, header=self.header + line.rstrip("\n") + "\n")


def capture(url: str, own_schema: str, history_table: str, now: datetime) -> Capture:
    """Production's schema (all but `own_schema`) as the text of a baseline migration."""
    with connect(url) as conn:
        server_version = conn.execute("SHOW server_version").fetchone()[0]
        roles = tuple(row[0] for row in conn.execute(_ROLES_SQL).fetchall())
        conn.rollback()
    dump = pg_dump_schema(url, [*DUMP_FLAGS, "--exclude-schema", name_pattern(own_schema)])
    body = _SETTINGS + roles_block(roles) + clean_dump(dump)
    return Capture(_header(redact_text(url), server_version, history_table, now), body, server_version, roles)


def clean_dump(dump: str) -> str:
    """The dump without its top-level session settings. Statements are split by PostgreSQL's own
    scanner, so a line inside a function body or a string is never touched; only the blank lines
    between statements that a removed line leaves doubled are dropped."""
    kept, position = [], 0
    for part in pglast.split(dump, with_parser=False, only_slices=True):
        start = _LEADING_COMMENTS.match(dump, part.start, part.stop).end()  # the statement, its comments kept
        if not _SESSION_SETTING.match(dump[start:part.stop].strip()):
            continue
        kept.append(dump[position:start])
        end = part.stop
        while end < len(dump) and dump[end] in " \t;":
            end += 1
        if end < len(dump) and dump[end] == "\n":  # its line goes with it
            end += 1
        if "".join(kept).endswith("\n\n"):  # a blank line already separates the statements around it
            while end < len(dump) and dump[end] == "\n":
                end += 1
        position = end
    kept.append(dump[position:])
    return "".join(kept).strip("\n") + "\n"


def roles_block(roles: tuple[str, ...]) -> str:
    """An idempotent DO block that creates each missing role NOLOGIN (see the module docstring).
    Role names reach the block as string literals, and its dollar-quote tag occurs in none of them."""
    if not roles:
        return ""
    names = ", ".join(quote_literal(role) for role in roles)
    tag, counter = "$migguard_roles$", 0
    while tag in names:
        counter += 1
        tag = f"$migguard_roles{counter}$"
    return (f"-- Roles the grants and policies below name: created NOLOGIN where missing (roles are per server).\n"
            f"DO {tag}\nDECLARE\n    role_name text;\nBEGIN\n"
            f"    FOREACH role_name IN ARRAY ARRAY[{names}]::text[] LOOP\n"
            f"        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = role_name) THEN\n"
            f"            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', role_name);\n"
            f"        END IF;\n    END LOOP;\nEND\n{tag};\n\n")


def _header(target: str, server_version: str, history_table: str, now: datetime) -> str:
    lines = [
        "migguard baseline: production's schema when it adopted migguard. DO NOT EDIT.",
        f"Generated by `migguard baseline` from {target} at {now:%Y-%m-%dT%H:%M:%SZ},",
        f"PostgreSQL {server_version}, with pg_dump --schema-only {' '.join(DUMP_FLAGS)}.",
        f"Recorded as applied in {history_table} with this file's checksum: production already holds",
        "these objects, so apply never runs it there; plan and status replay it first on the shadow.",
        "Editing it is a checksum mismatch: change the schema in a new migration (`migguard new`).",
    ]
    return "".join(f"-- {comment_safe(line)}\n" for line in lines)
