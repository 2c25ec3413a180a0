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
    steps = []
    for role in sorted(set(old) | set(new)):
        before, after = set(old.get(role, ())), set(new.get(role, ()))
        grantee = "PUBLIC" if role == "public" else quote_ident(role)
        for kind, privileges in (("grant", sorted(after - before)), ("revoke", sorted(before - after))):
            if not privileges:
                continue
            grant = f"GRANT {', '.join(privileges)} ON {word} {target} TO {grantee};"
            revoke = f"REVOKE {', '.join(privileges)} ON {word} {target} FROM {grantee};"
            steps.append(GrantStep(kind, role, grant if kind == "grant" else revoke,
                                   revoke if kind == "grant" else grant))
    return steps


def grant_option_steps(word: str, target: str, old: Grants, new: Grants) -> list[GrantStep]:
    """WITH GRANT OPTION given (`GRANT … WITH GRANT OPTION`) or taken back (`REVOKE GRANT OPTION
    FOR …`) on `word target`; the privileges themselves are `grant_steps`' (revoking one takes
    its option too, so taking the option back again is harmless)."""
    steps = []
    for role in sorted(set(old) | set(new)):
        before, after = set(old.get(role, ())), set(new.get(role, ()))
        grantee = "PUBLIC" if role == "public" else quote_ident(role)
        for kind, privileges in (("grant", sorted(after - before)), ("revoke", sorted(before - after))):
            if not privileges:
                continue
            grant = f"GRANT {', '.join(privileges)} ON {word} {target} TO {grantee} WITH GRANT OPTION;"
            revoke = f"REVOKE GRANT OPTION FOR {', '.join(privileges)} ON {word} {target} FROM {grantee};"
            steps.append(GrantStep(f"{kind} option", role, grant if kind == "grant" else revoke,
                                   revoke if kind == "grant" else grant))
    return steps
