"""GRANT and REVOKE on schemas, sequences, functions and types (tables and views: `schema/diff.py`).

A created object starts with PostgreSQL's default privileges for its kind (PUBLIC may execute a
function and use a type), so its grants are diffed against those, not against nothing. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from migguard.core.identifiers import quote_ident

Grants = dict[str, tuple[str, ...]]  # role → sorted privileges

# acldefault() of each kind, for the owner's grantees (the owner's own rights are not modelled).
DEFAULT_GRANTS: dict[str, Grants] = {"FUNCTION": {"public": ("EXECUTE",)}, "PROCEDURE": {"public": ("EXECUTE",)},
                                     "TYPE": {"public": ("USAGE",)}, "DOMAIN": {"public": ("USAGE",)},
                                     "SEQUENCE": {}, "SCHEMA": {}}


@dataclass(frozen=True)
class GrantStep:
    kind: str  # grant | revoke
    role: str
    forward: str
    reverse: str


def grant_steps(word: str, target: str, old: Grants | None, new: Grants | None) -> list[GrantStep]:
    """Grants that turn `old` into `new` on `word target` (e.g. FUNCTION public.f(integer)); None:
    the object is created (old) or dropped (new), so it has its kind's default privileges then."""
    default = DEFAULT_GRANTS[word]
    old, new = default if old is None else old, default if new is None else new
    return [GrantStep(kind, role, grant if kind == "grant" else revoke, revoke if kind == "grant" else grant)
            for kind, role, grantee, privileges in _granted_and_revoked(old, new)
            for grant, revoke in [(f"GRANT {privileges} ON {word} {target} TO {grantee};",
                                   f"REVOKE {privileges} ON {word} {target} FROM {grantee};")]]


def _granted_and_revoked(old: Grants, new: Grants) -> list[tuple[str, str, str, str]]:
    """(grant | revoke, role, grantee as SQL, privileges as SQL) for each role whose privileges differ."""
    rows = []
    for role in sorted(set(old) | set(new)):
        before, after = set(old.get(role, ())), set(new.get(role, ()))
        grantee = "PUBLIC" if role == "public" else quote_ident(role)
        for kind, privileges in (("grant", sorted(after - before)), ("revoke", sorted(before - after))):
            if privileges:
                rows.append((kind, role, grantee, ", ".join(privileges)))
    return rows


def grant_option_steps(word: str, target: str, old: Grants, new: Grants) -> list[GrantStep]:
    """WITH GRANT OPTION given (`GRANT … WITH GRANT OPTION`) or taken back (`REVOKE GRANT OPTION
    FOR …`) on `word target`; the privileges themselves are `grant_steps`' (revoking one takes
    its option too, so taking the option back again is harmless)."""
    return [GrantStep(f"{kind} option", role, grant if kind == "grant" else revoke, revoke if kind == "grant" else grant)
            for kind, role, grantee, privileges in _granted_and_revoked(old, new)
            for grant, revoke in [(f"GRANT {privileges} ON {word} {target} TO {grantee} WITH GRANT OPTION;",
                                   f"REVOKE GRANT OPTION FOR {privileges} ON {word} {target} FROM {grantee};")]]
