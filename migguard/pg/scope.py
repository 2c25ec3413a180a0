"""The tenant schema a run is scoped to, for schema-per-tenant targets (SPEC section 11).

Inside `tenant_schema(name)`, every connection migguard opens (production and shadow) starts with
`search_path` set to that schema, so a migration's unqualified names land in the tenant's schema,
on production and on the shadow alike; the catalog reader sees only that schema, so plan, drift,
the fingerprint gate and the verification compare the tenant's objects and nothing of its
neighbours (which other applies may be changing at the same time); a shadow replay of the
history starts from an empty schema of that name; and the shadow clone of production (the plan's
and the verification's) leaves out the `siblings`, the other tenants' schemas, so each tenant's
clone costs its own size, not the whole database's (shared schemas such as `public` stay in).
A ContextVar: each fleet worker thread has its own scope, and nothing leaks to another target.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from psycopg import sql

_SCHEMA: ContextVar[str | None] = ContextVar("migguard_tenant_schema", default=None)
_SIBLINGS: ContextVar[tuple[str, ...]] = ContextVar("migguard_tenant_siblings", default=())


def current() -> str | None:
    """The tenant schema of this run, or None (the whole database, as for a single production)."""
    return _SCHEMA.get()


def siblings() -> tuple[str, ...]:
    """The other tenants' schemas in the same database (left out of the shadow clone)."""
    return _SIBLINGS.get()


@contextmanager
def tenant_schema(schema: str | None, sibling_schemas: tuple[str, ...] = ()) -> Iterator[None]:
    tokens = _SCHEMA.set(schema), _SIBLINGS.set(tuple(s for s in sibling_schemas if s != schema) if schema else ())
    try:
        yield
    finally:
        _SCHEMA.reset(tokens[0])
        _SIBLINGS.reset(tokens[1])


def search_path_option(schema: str) -> str:
    """`-c search_path="<schema>"` for libpq's `options`: the name quoted as an identifier, then
    spaces and backslashes escaped as libpq's option splitting requires."""
    quoted = sql.Identifier(schema).as_string(None)
    return "-c search_path=" + quoted.replace("\\", "\\\\").replace(" ", "\\ ")
