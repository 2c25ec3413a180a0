"""The findings of the database steps, documented like the static rules.

The static rules (`migguard.lint.rules`) read SQL; the ids here are reported by steps that read or
change a real database: the RLS catalog audit (`migguard.rls.audit.audit`, family `rls-catalog`),
and the two-tenant isolation probe (`migguard.rls.probe.probe`, family `rls-probe`); the ids of
`migguard plan`'s steps are documented beside it, in `migguard.plan.findings`. Ids the audit shares with static rules (`require-rls-enabled`,
`require-rls-forced`, …) are documented there and not repeated here.

Every entry's `doc` has the sections of a static rule's docs. For the `rls-*` ids, Bad and Good
are a small schema (DDL, roles and grants) run as a superuser on an empty database with the
default settings (`tenant_column = "tenant_id"`, `tenant_setting = "app.tenant_id"`,
`app_roles = ["app_user"]`); a comment line `-- migguard.toml: key = value` (TOML, keys as in
migguard.toml) changes a setting. Bad produces the finding, Good does not
(tests/rls/test_database_rules.py runs them).

Severities and summaries are `RLS_RULES` (what the audit and the probe report with). They join the one registry of finding ids
as `FINDINGS` (`migguard.core.finding_ids`). This module imports nothing heavy: config validation
loads it.
"""

from __future__ import annotations

from typing import Literal

from migguard.core.finding_ids import PG_DOCS, FindingKind, FindingProvider
from migguard.core.finding_ids import finding_doc as _doc
from migguard.core.findings import Severity

Family = Literal["rls-catalog", "rls-probe"]
FAMILIES: tuple[str, ...] = ("rls-catalog", "rls-probe")
_PG = PG_DOCS
RLS_DOCS = _PG + "ddl-rowsecurity.html"
CREATE_POLICY = _PG + "sql-createpolicy.html"
CREATE_ROLE = _PG + "sql-createrole.html"
GRANT = _PG + "sql-grant.html"
ROLE_MEMBERSHIP = _PG + "role-membership.html"
CONSTRAINTS = _PG + "ddl-constraints.html"
CREATE_VIEW = _PG + "sql-createview.html"
TRUNCATE = _PG + "sql-truncate.html"
ALTER_TABLE = _PG + "sql-altertable.html"
SETTINGS = _PG + "functions-admin.html#FUNCTIONS-ADMIN-SET"

# The pieces every RLS example shares, spelled out in each example so it reads on its own.
_ROLE = "CREATE ROLE app_user NOLOGIN;"
_KEYED = "tenant_id = current_setting('app.tenant_id')::uuid"
_INVOICES = """
CREATE TABLE invoices (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    number text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;"""
_POLICY = f"""
CREATE POLICY tenant_isolation ON invoices
    USING ({_KEYED})
    WITH CHECK ({_KEYED});"""
_GRANT = "GRANT SELECT, INSERT, UPDATE, DELETE ON invoices TO app_user;"
_ISOLATED = f"{_ROLE}\n{_INVOICES.strip()}\n{_POLICY.strip()}\n{_GRANT}"


def _per_command(select: str = f"USING ({_KEYED})", insert: str = f"WITH CHECK ({_KEYED})",
                 update: str = f"USING ({_KEYED}) WITH CHECK ({_KEYED})", delete: str = f"USING ({_KEYED})") -> str:
    """The invoices table with one policy per command (each keyed on the tenant unless told)."""
    return "\n".join([_ROLE, _INVOICES.strip(),
                      f"CREATE POLICY invoices_select ON invoices FOR SELECT {select};".replace(" ;", ";"),
                      f"CREATE POLICY invoices_insert ON invoices FOR INSERT {insert};".replace(" ;", ";"),
                      f"CREATE POLICY invoices_update ON invoices FOR UPDATE {update};".replace(" ;", ";"),
                      f"CREATE POLICY invoices_delete ON invoices FOR DELETE {delete};".replace(" ;", ";"),
                      _GRANT])


# --- what the RLS audit and probe report -----------------------------------------------------------

# id -> (severity, summary) of every finding the audit and the probe report (`migguard.rls.audit.finding`),
# the ids they share with static rules included (documented there).
RLS_RULES: dict[str, tuple[Severity, str]] = {
    # audit (catalog)
    "require-rls-enabled": (Severity.ERROR, "a multi-tenant table (or partition) has row level security disabled"),
    "require-rls-forced": (Severity.ERROR, "a multi-tenant table's RLS is not forced, so its owner bypasses it"),
    "require-tenant-policy": (Severity.ERROR, "a multi-tenant table has no policy for the application roles"),
    "ban-constant-true-policy": (Severity.ERROR, "a permissive policy's USING or WITH CHECK is always true"),
    "rls-policy-not-tenant-keyed": (Severity.ERROR,
                                    "a permissive policy does not compare the tenant column with the tenant setting"),
    "rls-permissive-or-widening": (Severity.ERROR,
                                   "a permissive policy ORs access open beside (or inside) the tenant condition"),
    "require-policy-with-check": (Severity.WARNING, "an INSERT policy has no WITH CHECK, so it allows no row"),
    "require-policy-using": (Severity.WARNING, "a SELECT/UPDATE/DELETE/ALL policy has no USING, so it matches no row"),
    "rls-policy-command-uncovered": (Severity.WARNING,
                                     "an application role holds a privilege no policy covers (every such "
                                     "statement is refused)"),
    "ban-nullable-tenant-column": (Severity.ERROR, "the tenant column is nullable"),
    "rls-unique-key-without-tenant": (Severity.ERROR,
                                      "a unique key of a multi-tenant table lacks the tenant column (existence "
                                      "oracle across tenants; info for surrogate keys)"),
    "rls-foreign-key-without-tenant": (Severity.ERROR,
                                       "a foreign key between multi-tenant tables lacks the tenant column "
                                       "(cross-tenant references)"),
    "rls-truncate-granted": (Severity.ERROR, "an application role may TRUNCATE a multi-tenant table (RLS does "
                                             "not apply to TRUNCATE)"),
    "rls-app-role-owner": (Severity.ERROR, "an application role owns a multi-tenant table"),
    "rls-app-role-member-of-owner": (Severity.ERROR, "an application role is a member of a multi-tenant table's owner"),
    "rls-app-role-superuser": (Severity.ERROR, "an application role is (or can become) a superuser"),
    "rls-app-role-bypassrls": (Severity.ERROR, "an application role has (or can become a role with) BYPASSRLS"),
    "rls-app-role-missing": (Severity.WARNING, "a configured application role does not exist in the database"),
    "require-security-invoker-view": (Severity.ERROR, "a view over tenant data is not security_invoker, or a "
                                                      "materialized view holds tenant data"),
    "ban-security-definer-function": (Severity.WARNING, "a SECURITY DEFINER function reads multi-tenant tables "
                                                        "(error when an application role may call it and its "
                                                        "owner bypasses RLS)"),
    "rls-no-tenant-tables": (Severity.INFO, "no table has the tenant column"),
    "rls-exempt": (Severity.INFO, "a relation is exempt from the RLS checks by exempt_tables"),
    "rls-exempt-unknown": (Severity.WARNING, "an exempt_tables entry names no relation in the database"),
    # probe (dynamic)
    "rls-probe-select-leak": (Severity.ERROR, "acting for tenant A, an application role read tenant B's rows"),
    "rls-probe-update-leak": (Severity.ERROR, "acting for tenant A, an application role updated tenant B's rows"),
    "rls-probe-delete-leak": (Severity.ERROR, "acting for tenant A, an application role deleted tenant B's rows"),
    "rls-probe-insert-leak": (Severity.ERROR, "acting for tenant A, an application role inserted a row for tenant B"),
    "rls-probe-move-leak": (Severity.ERROR, "acting for tenant A, an application role moved a row to tenant B"),
    "rls-probe-truncate-leak": (Severity.ERROR, "an application role was allowed to TRUNCATE a multi-tenant table"),
    "rls-probe-unique-leak": (Severity.ERROR, "a unique violation told tenant A that tenant B holds a value "
                                              "(info for surrogate keys)"),
    "rls-probe-cross-tenant-reference": (Severity.ERROR, "tenant A inserted a row referencing tenant B's row"),
    "rls-probe-view-leak": (Severity.ERROR, "acting for tenant A, an application role read tenant B's rows "
                                            "through a view or materialized view"),
    "rls-probe-skipped": (Severity.INFO, "the probe could not test a table or a role (the reason is given)"),
    "rls-probe-inconclusive": (Severity.INFO, "a probe attempt failed for a reason other than a refusal"),
}


# --- RLS catalog audit ------------------------------------------------------------------------------

_CATALOG_DOCS: dict[str, str] = {}

_CATALOG_DOCS["rls-policy-not-tenant-keyed"] = _doc(
    what="""
For every permissive policy that applies to an application role (`app_roles`) on a multi-tenant
table (a table, partitioned table or partition with the tenant column), the audit reads its USING
and WITH CHECK as PostgreSQL deparses them and checks that each clause cannot be true unless the
tenant column equals the tenant setting: `tenant_id = current_setting('app.tenant_id')::uuid`,
directly, in a sub-select, or through a function whose body reads the setting. A clause that
compares another column, reads another setting, or filters only on the row's content is
reported, with what it lacks.
""",
    why="""
The policy is the only thing that confines a session to its tenant. A policy keyed on a user id,
a team, a status or another setting lets a session read and write every row of every tenant that
satisfies it: a user who belongs to two tenants sees both while acting for one, and a business
rule (`status <> 'archived'`) confines nothing at all.
""",
    bad=f"""
{_ROLE}
CREATE TABLE invoices (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    created_by uuid NOT NULL,
    number text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
-- keyed on the user, not the tenant
CREATE POLICY own_invoices ON invoices
    USING (created_by = current_setting('app.user_id', true)::uuid)
    WITH CHECK (created_by = current_setting('app.user_id', true)::uuid);
{_GRANT}
""",
    good=f"""
{_ROLE}
CREATE TABLE invoices (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    created_by uuid NOT NULL,
    number text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
-- the tenant condition ANDed with the user condition
CREATE POLICY own_invoices ON invoices
    USING ({_KEYED}
           AND created_by = current_setting('app.user_id', true)::uuid)
    WITH CHECK ({_KEYED}
                AND created_by = current_setting('app.user_id', true)::uuid);
{_GRANT}
""",
    quiet="""
Restrictive policies (they only narrow what permissive policies open), policies for roles that
are not application roles, always-true clauses (reported as `ban-constant-true-policy`), clauses
that OR the tenant condition with another (reported as `rls-permissive-or-widening`), and
permissive policies whose commands a restrictive tenant-keyed policy guards for every role they
apply to. A function whose body reads the tenant setting is trusted to filter by it; the
isolation probe checks what it really does.
""",
    references=(RLS_DOCS, CREATE_POLICY, SETTINGS),
)

_CATALOG_DOCS["rls-permissive-or-widening"] = _doc(
    what="""
Reports a permissive policy that lets rows of other tenants through beside the tenant
condition: either a second permissive policy (for the same command and role) that is not keyed on
the tenant, or a tenant policy whose clause ORs the tenant condition with another one, such as
`tenant_id = current_setting('app.tenant_id')::uuid OR is_public`.
""",
    why="""
PostgreSQL combines permissive policies with OR: a row is visible when any of them accepts it.
One extra permissive policy for "public" or "shared" rows, or an OR inside the tenant policy,
makes every other tenant's rows that match the extra condition readable (and, for UPDATE, DELETE
and ALL policies, writable) by every tenant. Adding a condition that narrows access needs a
RESTRICTIVE policy, which is ANDed.
""",
    bad=f"""
{_ROLE}
CREATE TABLE articles (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    published boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE articles ENABLE ROW LEVEL SECURITY;
ALTER TABLE articles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON articles
    USING ({_KEYED})
    WITH CHECK ({_KEYED});
-- permissive: ORed with tenant_isolation, so every tenant reads every published article
CREATE POLICY published_articles ON articles FOR SELECT USING (published);
GRANT SELECT, INSERT, UPDATE, DELETE ON articles TO app_user;
""",
    good=f"""
{_ROLE}
CREATE TABLE articles (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    published boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE articles ENABLE ROW LEVEL SECURITY;
ALTER TABLE articles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON articles
    USING ({_KEYED})
    WITH CHECK ({_KEYED});
-- restrictive: ANDed with tenant_isolation (rows meant for every tenant belong in a table
-- without the tenant column)
CREATE POLICY published_only ON articles AS RESTRICTIVE FOR SELECT USING (published);
GRANT SELECT, INSERT, UPDATE, DELETE ON articles TO app_user;
""",
    quiet="""
Restrictive policies; extra conditions ANDed with the tenant condition; a permissive policy whose
commands a restrictive tenant-keyed policy guards for every role it applies to; policies for
roles that are not application roles. An extra permissive policy that is always true is reported
as `ban-constant-true-policy` instead.
""",
    references=(RLS_DOCS, CREATE_POLICY),
)

_CATALOG_DOCS["require-policy-with-check"] = _doc(
    what="""
Reports a `FOR INSERT` policy without a WITH CHECK clause on a multi-tenant table.
""",
    why="""
USING does not apply to INSERT, so an INSERT policy without WITH CHECK accepts no row: every
insert the application makes is refused unless another permissive policy allows it. The usual
"fix" under pressure is an always-true policy, which opens the table to every tenant.
""",
    bad=_per_command(insert=""),
    good=_per_command(),
    quiet="""
INSERT policies with WITH CHECK; FOR ALL policies (their USING serves as WITH CHECK when they
have none); restrictive policies; policies for roles that are not application roles.
""",
    references=(CREATE_POLICY, RLS_DOCS),
)

_CATALOG_DOCS["require-policy-using"] = _doc(
    what="""
Reports a `FOR SELECT`, `FOR UPDATE`, `FOR DELETE` or `FOR ALL` policy without a USING clause on a
multi-tenant table.
""",
    why="""
Without USING the policy matches no existing row: SELECT returns nothing, UPDATE and DELETE
touch nothing, through this policy. The application then fails (or silently does nothing) for
every tenant, and the tempting quick fix is an always-true policy.
""",
    bad=f"""
{_ROLE}
{_INVOICES.strip()}
-- WITH CHECK only: new rows are checked, existing rows are never visible
CREATE POLICY tenant_isolation ON invoices
    WITH CHECK ({_KEYED});
{_GRANT}
""",
    good=_ISOLATED,
    quiet="""
INSERT policies (they have no USING); restrictive policies; policies for roles that are not
application roles.
""",
    references=(CREATE_POLICY, RLS_DOCS),
)

_CATALOG_DOCS["rls-policy-command-uncovered"] = _doc(
    what="""
For each application role and each privilege it holds on a multi-tenant table with row level
security enabled (SELECT, INSERT, UPDATE, DELETE), checks that a permissive policy applying to
the role covers that command. Reports each privilege no policy covers.
""",
    why="""
With row level security enabled, a command no permissive policy covers is refused (INSERT) or
silently affects no row (SELECT, UPDATE, DELETE). The grant says the application may do it, the
policies say it may not: the feature fails in production, and the quick fix is usually an
always-true policy. Either the policy is missing or the grant is too wide.
""",
    bad=f"""
{_ROLE}
{_INVOICES.strip()}
CREATE POLICY invoices_select ON invoices FOR SELECT USING ({_KEYED});
-- INSERT, UPDATE and DELETE are granted, but no policy covers them
{_GRANT}
""",
    good=f"""
{_ROLE}
{_INVOICES.strip()}
CREATE POLICY invoices_select ON invoices FOR SELECT USING ({_KEYED});
-- grant only what a policy covers (or give INSERT, UPDATE and DELETE their policies)
GRANT SELECT ON invoices TO app_user;
""",
    quiet="""
Tables with row level security disabled (reported as `require-rls-enabled`); tables with no
policy at all for the application roles (reported as `require-tenant-policy`); application roles
that are superusers (reported once as `rls-app-role-superuser`).
""",
    references=(CREATE_POLICY, GRANT, RLS_DOCS),
)

_CATALOG_DOCS["rls-unique-key-without-tenant"] = _doc(
    what="""
Reports a primary key, unique constraint or unique index of a multi-tenant table whose key
columns do not include the tenant column. When every key column is a generated surrogate
(identity, serial, `gen_random_uuid()` default) the finding is info, else an error.
""",
    why="""
A unique key without the tenant column is enforced across all tenants, and row level security
does not hide the violation: a tenant whose insert fails with `duplicate key value violates
unique constraint` learns that another tenant holds that value (an e-mail address, a domain, an
invoice number). It also stops two tenants from using the same natural value at all.
""",
    bad=f"""
{_ROLE}
CREATE TABLE customers (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    email text NOT NULL UNIQUE,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers
    USING ({_KEYED})
    WITH CHECK ({_KEYED});
GRANT SELECT, INSERT, UPDATE, DELETE ON customers TO app_user;
""",
    good=f"""
{_ROLE}
CREATE TABLE customers (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    email text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email)
);
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers
    USING ({_KEYED})
    WITH CHECK ({_KEYED});
GRANT SELECT, INSERT, UPDATE, DELETE ON customers TO app_user;
""",
    quiet="""
Keys that include the tenant column in any position; tables without the tenant column (a global
lookup table may well have global keys); exempt tables. Surrogate-only keys are reported as info:
they only tell that an id is taken.
""",
    references=(CONSTRAINTS, RLS_DOCS),
)

_CATALOG_DOCS["rls-foreign-key-without-tenant"] = _doc(
    what="""
Reports a foreign key from one multi-tenant table to another that does not pair the tenant
column of the referencing table with the tenant column of the referenced one.
""",
    why="""
Referential checks run without row level security. With a foreign key on `customer_id` alone, a
tenant can insert an invoice pointing at another tenant's customer (and learn from the check
which customer ids exist), and `ON DELETE CASCADE` or `SET NULL` then cross tenants too. A
composite key `(tenant_id, customer_id)` makes such a row impossible.
""",
    bad=f"""
{_ROLE}
CREATE TABLE customers (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE invoices (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers USING ({_KEYED}) WITH CHECK ({_KEYED});
CREATE POLICY tenant_isolation ON invoices USING ({_KEYED}) WITH CHECK ({_KEYED});
GRANT SELECT, INSERT, UPDATE, DELETE ON customers, invoices TO app_user;
""",
    good=f"""
{_ROLE}
CREATE TABLE customers (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE invoices (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    customer_id bigint NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers USING ({_KEYED}) WITH CHECK ({_KEYED});
CREATE POLICY tenant_isolation ON invoices USING ({_KEYED}) WITH CHECK ({_KEYED});
GRANT SELECT, INSERT, UPDATE, DELETE ON customers, invoices TO app_user;
""",
    quiet="""
Foreign keys to tables without the tenant column (the tenants table itself, global lookup
tables); foreign keys that pair the two tenant columns. The Bad example is also reported as
`rls-unique-key-without-tenant` (info: `customers.id` is a surrogate key).
""",
    references=(CONSTRAINTS, RLS_DOCS),
)

_CATALOG_DOCS["rls-truncate-granted"] = _doc(
    what="""
Reports an application role that holds the TRUNCATE privilege on a multi-tenant table (granted
to it, to a role it inherits, or to PUBLIC; `GRANT ALL` includes it).
""",
    why="""
Row level security does not apply to TRUNCATE. One tenant's session, through a bug or an
injection, can empty the table for every tenant in one statement, and TRUNCATE is not logged per
row.
""",
    bad=f"""
{_ROLE}
{_INVOICES.strip()}
{_POLICY.strip()}
-- ALL includes TRUNCATE (and REFERENCES, TRIGGER)
GRANT ALL ON invoices TO app_user;
""",
    good=_ISOLATED,
    quiet="""
Roles that own the table or are members of its owner (reported as `rls-app-role-owner` and
`rls-app-role-member-of-owner`, which subsume it); superuser application roles (reported as
`rls-app-role-superuser`); tables without the tenant column.
""",
    references=(TRUNCATE, GRANT, RLS_DOCS),
)

_CATALOG_DOCS["rls-app-role-owner"] = _doc(
    what="""
Reports an application role that owns a multi-tenant table.
""",
    why="""
Without FORCE ROW LEVEL SECURITY the policies do not apply to the owner at all. With it, the owner
can still TRUNCATE the table, ALTER it to NO FORCE or DISABLE ROW LEVEL SECURITY, and drop or
rewrite its policies: one compromised application session can take tenant isolation down for
everyone. The tables should belong to a migration role the application never connects as.
""",
    bad=f"""
{_ISOLATED}
ALTER TABLE invoices OWNER TO app_user;
""",
    good=f"""
CREATE ROLE migrator NOLOGIN;
{_ISOLATED}
ALTER TABLE invoices OWNER TO migrator;
""",
    quiet="""
Tables owned by a role that is not an application role and that no application role is a member
of (that case is `rls-app-role-member-of-owner`); superuser application roles (reported once as
`rls-app-role-superuser`).
""",
    references=(RLS_DOCS, ALTER_TABLE),
)

_CATALOG_DOCS["rls-app-role-member-of-owner"] = _doc(
    what="""
Reports an application role that is a member (directly or through other roles) of the role that
owns a multi-tenant table.
""",
    why="""
A member has the owner's privileges: it counts as the owner for row level security (so policies
do not apply unless RLS is forced), and it can TRUNCATE the table, disable RLS and drop policies.
`GRANT migrator TO app_user`, often done to let the application "run migrations too", gives
every application session the power to undo tenant isolation.
""",
    bad=f"""
CREATE ROLE migrator NOLOGIN;
CREATE ROLE app_user NOLOGIN IN ROLE migrator;
{_INVOICES.strip()}
{_POLICY.strip()}
{_GRANT}
ALTER TABLE invoices OWNER TO migrator;
""",
    good=f"""
CREATE ROLE migrator NOLOGIN;
{_ISOLATED}
ALTER TABLE invoices OWNER TO migrator;
""",
    quiet="""
Application roles that own the table themselves (reported as `rls-app-role-owner`); superuser
application roles (reported once as `rls-app-role-superuser`).
""",
    references=(ROLE_MEMBERSHIP, RLS_DOCS),
)

_CATALOG_DOCS["rls-app-role-superuser"] = _doc(
    what="""
Reports an application role that is a superuser, or can become one with SET ROLE (it is a member
of a superuser role).
""",
    why="""
Superusers bypass row level security even when it is forced: a session of this role reads and
changes every tenant's rows whatever the policies say, and can drop them.
""",
    bad=f"""
CREATE ROLE app_user NOLOGIN SUPERUSER;
{_INVOICES.strip()}
{_POLICY.strip()}
{_GRANT}
""",
    good=_ISOLATED,
    quiet="""
Application roles without SUPERUSER that are not members of a superuser role. A BYPASSRLS role is
reported as `rls-app-role-bypassrls`.
""",
    references=(CREATE_ROLE, RLS_DOCS),
)

_CATALOG_DOCS["rls-app-role-bypassrls"] = _doc(
    what="""
Reports an application role that has the BYPASSRLS attribute, or can SET ROLE to a role that has
it (the attribute is not inherited, but SET ROLE acquires it).
""",
    why="""
Row level security is not applied to a role with BYPASSRLS at all, forced or not: its sessions
read and change every tenant's rows.
""",
    bad=f"""
CREATE ROLE app_user NOLOGIN BYPASSRLS;
{_INVOICES.strip()}
{_POLICY.strip()}
{_GRANT}
""",
    good=_ISOLATED,
    quiet="""
Application roles that are superusers (reported as `rls-app-role-superuser`, which subsumes it);
roles without BYPASSRLS that are not members of one.
""",
    references=(CREATE_ROLE, RLS_DOCS),
)

_CATALOG_DOCS["rls-app-role-missing"] = _doc(
    what="""
Reports an entry of `app_roles` that names no role in the database.
""",
    why="""
The audit checks grants, policies, ownership and role attributes for the roles the application
connects as. A role that does not exist cannot be checked: the application really connects as
some other role (which may own the tables or bypass RLS), or the role is created by hand on
production outside the migrations, with privileges nobody reviews.
""",
    bad=f"""
-- app_roles = ["app_user"], but no migration creates app_user
{_INVOICES.strip()}
{_POLICY.strip()}
""",
    good=_ISOLATED,
    quiet="""
Every role named in `app_roles` exists. Set `app_roles` to the role(s) the application connects
as.
""",
    references=(CREATE_ROLE, RLS_DOCS),
)

_CATALOG_DOCS["rls-no-tenant-tables"] = _doc(
    what="""
Reports (once, as info) a database in which no table outside `exempt_tables` has the tenant
column.
""",
    why="""
With no multi-tenant table, the audit and the probe have nothing to check and pass trivially.
Usually the tenant column has another name than `tenant_column` (default `tenant_id`), so the
tenant isolation of the whole database goes unverified.
""",
    bad=f"""
-- tenant_column is left at its default (tenant_id), but the tables call it account_id
{_ROLE}
CREATE TABLE invoices (
    account_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (account_id, id)
);
{_GRANT}
""",
    good=f"""
-- migguard.toml: tenant_column = "account_id"
{_ROLE}
CREATE TABLE invoices (
    account_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (account_id, id)
);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoices
    USING (account_id = current_setting('app.tenant_id')::uuid)
    WITH CHECK (account_id = current_setting('app.tenant_id')::uuid);
{_GRANT}
""",
    quiet="""
At least one table, partitioned table or partition outside `exempt_tables` has the tenant
column. A single-tenant database can ignore it (`[tool.migguard.rules]` does not reach database
findings yet; it is info and does not fail the gate).
""",
    references=(RLS_DOCS,),
)

_CATALOG_DOCS["rls-exempt"] = _doc(
    what="""
Reports (as info) every relation that `[tool.migguard.rls] exempt_tables` exempts from the RLS
audit and the isolation probe, so the exemption stays visible in every report.
""",
    why="""
An exempt table has nothing checked: no RLS, policy, key, grant or probe check. Exemptions are
meant for tables that hold the tenant column but are not tenant data (an import staging table
emptied by a job, a table on its way out); each one is a hole in the isolation proof that should
be reviewed and eventually removed.
""",
    bad=f"""
-- migguard.toml: rls.exempt_tables = ["public.import_batches"]
{_ROLE}
CREATE TABLE import_batches (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    payload jsonb NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
GRANT SELECT, INSERT ON import_batches TO app_user;
""",
    good=f"""
{_ROLE}
CREATE TABLE import_batches (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    payload jsonb NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE import_batches ENABLE ROW LEVEL SECURITY;
ALTER TABLE import_batches FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON import_batches
    USING ({_KEYED})
    WITH CHECK ({_KEYED});
GRANT SELECT, INSERT ON import_batches TO app_user;
""",
    quiet="""
`exempt_tables` is empty. An entry that names no relation is reported as `rls-exempt-unknown`
instead.
""",
    references=(RLS_DOCS,),
)

_CATALOG_DOCS["rls-exempt-unknown"] = _doc(
    what="""
Reports an `exempt_tables` entry that names no table, partitioned table, view, materialized view
or foreign table in the database (names are compared as `schema.table`, unquoted names folded to
lower case, `public.` assumed).
""",
    why="""
A misspelled entry exempts nothing while its author believes a table is handled; a stale entry
(the table was renamed or dropped) silently exempts whatever is created under that name later.
""",
    bad=f"""
-- migguard.toml: rls.exempt_tables = ["public.legacy_imports"]
-- legacy_imports was dropped by an earlier migration; the entry stayed
{_ISOLATED}
""",
    good=f"""
-- migguard.toml: rls.exempt_tables = []
{_ISOLATED}
""",
    quiet="""
Every entry names an existing relation (those are reported as `rls-exempt`).
""",
    references=(RLS_DOCS,),
)

# --- RLS isolation probe ----------------------------------------------------------------------------

_PROBE_INTRO = """
On a shadow database (never production), in one transaction that is rolled back, the probe
generates two rows per multi-tenant table, for tenants A and B, then acts as each application
role with `SET LOCAL ROLE` and the tenant setting set to tenant A, each attempt in a savepoint
that is rolled back. """

_PROBE_QUIET_COMMON = """
A refusal (SQLSTATE 42501, a missing privilege or a row level security check) is the expected
outcome and is not reported; an attempt that fails for another reason is reported as
`rls-probe-inconclusive`, a table whose rows cannot be generated as `rls-probe-skipped`.
Exempt tables are not probed."""

_PROBE_DOCS: dict[str, str] = {}

_PROBE_DOCS["rls-probe-select-leak"] = _doc(
    what=_PROBE_INTRO + """This check counts, acting for tenant A, the rows of tenant B that
`SELECT count(*) FROM <table> WHERE tenant_id = <B>` sees, and reports any.
""",
    why="""
It is the leak itself, observed: one tenant's session read another tenant's rows. Whatever the
cause (RLS off, an always-true or widening policy, a policy keyed on the wrong column, a function
in a policy that does not filter, a role that bypasses RLS), the catalog may not show it; the
probe does.
""",
    bad=f"""
{_ROLE}
CREATE TABLE articles (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    published boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE articles ENABLE ROW LEVEL SECURITY;
ALTER TABLE articles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON articles
    USING ({_KEYED})
    WITH CHECK ({_KEYED});
-- permissive, so ORed in: tenant A reads tenant B's published articles
CREATE POLICY published_articles ON articles FOR SELECT USING (published);
GRANT SELECT, INSERT, UPDATE, DELETE ON articles TO app_user;
""",
    good=f"""
{_ROLE}
CREATE TABLE articles (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    published boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE articles ENABLE ROW LEVEL SECURITY;
ALTER TABLE articles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON articles
    USING ({_KEYED})
    WITH CHECK ({_KEYED});
CREATE POLICY published_only ON articles AS RESTRICTIVE FOR SELECT USING (published);
GRANT SELECT, INSERT, UPDATE, DELETE ON articles TO app_user;
""",
    quiet="""
The role sees no row of tenant B, or may not SELECT the table at all.""" + _PROBE_QUIET_COMMON,
    references=(RLS_DOCS, CREATE_POLICY),
)

_PROBE_DOCS["rls-probe-update-leak"] = _doc(
    what=_PROBE_INTRO + """This check runs `UPDATE <table> SET tenant_id = <A>` (no WHERE, so
only the UPDATE policies apply) acting for tenant A, then counts tenant B's rows as the owner
inside the same savepoint, and reports the rows of B that changed. An integrity error raised
after the policies let the statement through counts as a leak too.
""",
    why="""
Tenant A changed tenant B's rows: here it took them over. The UPDATE policy's USING decides which
existing rows an UPDATE may touch; when it is not keyed on the tenant, every tenant can modify
every other tenant's data.
""",
    bad=_per_command(update=f"USING (tenant_id IS NOT NULL) WITH CHECK ({_KEYED})"),
    good=_per_command(),
    quiet="""
The UPDATE touched no row of tenant B, or was refused.""" + _PROBE_QUIET_COMMON,
    references=(CREATE_POLICY, RLS_DOCS),
)

_PROBE_DOCS["rls-probe-delete-leak"] = _doc(
    what=_PROBE_INTRO + """This check runs `DELETE FROM <table>` (no WHERE, so only the DELETE
policies apply; when tenant A's own rows are referenced, `WHERE tenant_id = <B>`) acting for
tenant A, and reports the rows of tenant B it deleted.
""",
    why="""
Tenant A deleted tenant B's rows. The DELETE policy's USING decides which rows a DELETE may
remove; a policy that checks that a tenant is set, rather than which one, lets any tenant empty
the table for all.
""",
    bad=_per_command(delete="USING (current_setting('app.tenant_id') <> '')"),
    good=_per_command(),
    quiet="""
The DELETE removed no row of tenant B, or was refused.""" + _PROBE_QUIET_COMMON,
    references=(CREATE_POLICY, RLS_DOCS),
)

_PROBE_DOCS["rls-probe-insert-leak"] = _doc(
    what=_PROBE_INTRO + """This check inserts, acting for tenant A, a valid row whose tenant
column is tenant B (every column given explicitly, so only row level security can refuse it),
and reports it when the insert succeeds.
""",
    why="""
Tenant A wrote data into tenant B's account: forged records, or rows that B's users then trust.
The INSERT policy's WITH CHECK must require the new row's tenant column to equal the session's
tenant.
""",
    bad=_per_command(insert="WITH CHECK (tenant_id IS NOT NULL)"),
    good=_per_command(),
    quiet="""
The insert was refused (or failed on a constraint before the policies let it through).""" + _PROBE_QUIET_COMMON,
    references=(CREATE_POLICY, RLS_DOCS),
)

_PROBE_DOCS["rls-probe-move-leak"] = _doc(
    what=_PROBE_INTRO + """This check runs `UPDATE <table> SET tenant_id = <B>` acting for
tenant A, then counts tenant A's rows as the owner, and reports the rows that moved to tenant B.
""",
    why="""
Tenant A pushed its rows into tenant B's account. The UPDATE policy's WITH CHECK (or, without
one, its USING) decides what an updated row may look like; when it does not pin the tenant
column to the session's tenant, rows can be moved across tenants.
""",
    bad=_per_command(update=f"USING ({_KEYED}) WITH CHECK (tenant_id IS NOT NULL)"),
    good=_per_command(),
    quiet="""
No row moved to tenant B, or the UPDATE was refused.""" + _PROBE_QUIET_COMMON,
    references=(CREATE_POLICY, RLS_DOCS),
)

_PROBE_DOCS["rls-probe-truncate-leak"] = _doc(
    what=_PROBE_INTRO + """This check runs `TRUNCATE <table>` acting for tenant A and reports it
when it succeeds, or when only a foreign key stopped it (TRUNCATE … CASCADE would not stop).
""",
    why="""
Row level security does not apply to TRUNCATE: one tenant's session removed every tenant's rows.
The role holds TRUNCATE, owns the table, is a member of its owner, or is a superuser.
""",
    bad=f"""
{_ROLE}
{_INVOICES.strip()}
{_POLICY.strip()}
GRANT ALL ON invoices TO app_user;
""",
    good=_ISOLATED,
    quiet="""
TRUNCATE was refused for lack of privilege.""" + _PROBE_QUIET_COMMON,
    references=(TRUNCATE, GRANT, RLS_DOCS),
)

_PROBE_DOCS["rls-probe-unique-leak"] = _doc(
    what=_PROBE_INTRO + """For each unique key without the tenant column, this check inserts,
acting for tenant A, a row of A that carries tenant B's value in the key's columns, and reports a
unique violation: it told A that B holds the value (info when the key is a generated surrogate).
""",
    why="""
Unique checks see every tenant's rows, and the error names the constraint: tenant A can test
whether any tenant has an e-mail address, a domain or an invoice number, one insert at a time.
""",
    bad=f"""
{_ROLE}
CREATE TABLE customers (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    email text NOT NULL UNIQUE,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers
    USING ({_KEYED})
    WITH CHECK ({_KEYED});
GRANT SELECT, INSERT, UPDATE, DELETE ON customers TO app_user;
""",
    good=f"""
{_ROLE}
CREATE TABLE customers (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    email text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email)
);
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers
    USING ({_KEYED})
    WITH CHECK ({_KEYED});
GRANT SELECT, INSERT, UPDATE, DELETE ON customers TO app_user;
""",
    quiet="""
Unique keys that include the tenant column; keys on expressions; tables the role may not insert
into.""" + _PROBE_QUIET_COMMON,
    references=(CONSTRAINTS, RLS_DOCS),
)

_PROBE_DOCS["rls-probe-cross-tenant-reference"] = _doc(
    what=_PROBE_INTRO + """For each foreign key between multi-tenant tables that lacks the
tenant column, this check inserts, acting for tenant A, a row of A that references tenant B's
parent row, and reports it when the insert succeeds.
""",
    why="""
Referential checks bypass row level security: tenant A created a row pointing at tenant B's data
(and can probe which ids exist). Joins through that row then mix tenants, and cascades delete or
null across them.
""",
    bad=f"""
{_ROLE}
CREATE TABLE customers (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE invoices (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers USING ({_KEYED}) WITH CHECK ({_KEYED});
CREATE POLICY tenant_isolation ON invoices USING ({_KEYED}) WITH CHECK ({_KEYED});
GRANT SELECT, INSERT, UPDATE, DELETE ON customers, invoices TO app_user;
""",
    good=f"""
{_ROLE}
CREATE TABLE customers (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE invoices (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    customer_id bigint NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers USING ({_KEYED}) WITH CHECK ({_KEYED});
CREATE POLICY tenant_isolation ON invoices USING ({_KEYED}) WITH CHECK ({_KEYED});
GRANT SELECT, INSERT, UPDATE, DELETE ON customers, invoices TO app_user;
""",
    quiet="""
Foreign keys that pair the tenant columns; foreign keys to tables without the tenant column. The
Bad example is also reported as `rls-probe-unique-leak` (info: `customers.id` is a surrogate
key).""" + _PROBE_QUIET_COMMON,
    references=(CONSTRAINTS, RLS_DOCS),
)

_PROBE_DOCS["rls-probe-view-leak"] = _doc(
    what=_PROBE_INTRO + """For each view and materialized view over multi-tenant tables that has
the tenant column, this check counts, acting for tenant A, the rows of tenant B it shows
(materialized views are refreshed with the probe's rows first), and reports any.
""",
    why="""
A view runs with its owner's rights unless it is `security_invoker`: when the owner is a
superuser, has BYPASSRLS, or owns the tables without FORCE, the view shows every tenant's rows to
whoever may select from it. A materialized view stores a copy of the rows with no row level
security at all.
""",
    bad=f"""
-- run as a superuser, as migrations often are: the view's owner bypasses row level security
{_ISOLATED}
CREATE VIEW invoice_numbers AS SELECT tenant_id, id, number FROM invoices;
GRANT SELECT ON invoice_numbers TO app_user;
""",
    good=f"""
{_ISOLATED}
CREATE VIEW invoice_numbers WITH (security_invoker = true) AS SELECT tenant_id, id, number FROM invoices;
GRANT SELECT ON invoice_numbers TO app_user;
""",
    quiet="""
`security_invoker` views (PostgreSQL 15+); views without the tenant column (the probe cannot tell
tenants apart in them; the catalog audit reports definer views as
`require-security-invoker-view`); views the role may not read.""" + _PROBE_QUIET_COMMON,
    references=(CREATE_VIEW, RLS_DOCS),
)

_PROBE_DOCS["rls-probe-skipped"] = _doc(
    what="""
Reports (as info, with the reason) what the isolation probe could not test: a multi-tenant table
whose two rows could not be generated (a CHECK no candidate value satisfies, a cycle of NOT NULL
foreign keys, a table with no partition), one attempt on a table that needed a further row, an
application role that does not exist or cannot be assumed, or a role that may read no
multi-tenant table at all.
""",
    why="""
A skipped table or role is not proven isolated: only the catalog audit looked at it. The report
says so instead of passing silently, so the gap can be closed (rows made generatable, `app_roles`
fixed) or checked by hand.
""",
    bad=f"""
{_ROLE}
CREATE TABLE invoices (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    number text NOT NULL,
    checksum text NOT NULL CHECK (checksum = md5(tenant_id::text || number)),
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
{_POLICY.strip()}
{_GRANT}
""",
    good=f"""
{_ROLE}
CREATE TABLE invoices (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    number text NOT NULL,
    -- derived by PostgreSQL, so every generated row satisfies it
    checksum text GENERATED ALWAYS AS (md5(tenant_id::text || number)) STORED,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
{_POLICY.strip()}
{_GRANT}
""",
    quiet="""
Every multi-tenant table got its rows and every application role could be assumed. Exempt tables
are left out on purpose (reported as `rls-exempt`).
""",
    references=(RLS_DOCS, CONSTRAINTS),
)

_PROBE_DOCS["rls-probe-inconclusive"] = _doc(
    what="""
Reports (as info) a probe attempt that failed with an error that is neither a refusal (SQLSTATE
42501) nor an integrity error, with the SQLSTATE and message, and a materialized view the probe
could not refresh.
""",
    why="""
The attempt proved nothing: a policy or trigger that needs a setting the probe does not set, a
statement timeout, or a lock can hide a leak behind an error. The same error is likely to hit
the application the first time that setting is missing.
""",
    bad=f"""
{_ROLE}
CREATE TABLE invoices (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    created_by uuid NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
-- current_setting raises "unrecognized configuration parameter" when app.user_id is not set
CREATE POLICY own_invoices ON invoices
    USING ({_KEYED} AND created_by = current_setting('app.user_id')::uuid)
    WITH CHECK ({_KEYED});
{_GRANT}
""",
    good=f"""
{_ROLE}
CREATE TABLE invoices (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    created_by uuid NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
-- missing_ok: an unset app.user_id matches no row instead of raising an error
CREATE POLICY own_invoices ON invoices
    USING ({_KEYED} AND created_by = current_setting('app.user_id', true)::uuid)
    WITH CHECK ({_KEYED});
{_GRANT}
""",
    quiet="""
Every attempt succeeded or was refused (SQLSTATE 42501), or stopped on an integrity error.
""",
    references=(SETTINGS, RLS_DOCS),
)

# --- the registry -------------------------------------------------------------------------------------


def _database(rule_id: str, severity: Severity, summary: str, family: Family, doc: str) -> FindingKind:
    """A database finding id; none is a destructive-change rule (`--allow-destructive` governs lint only)."""
    return FindingKind(rule_id, severity, summary, family, "database", doc)


DATABASE_RULES: tuple[FindingKind, ...] = tuple(sorted(
    [_database(i, *RLS_RULES[i], "rls-catalog", d) for i, d in _CATALOG_DOCS.items()]
    + [_database(i, *RLS_RULES[i], "rls-probe", d) for i, d in _PROBE_DOCS.items()],
    key=lambda rule: rule.id))

FINDINGS = FindingProvider(
    origin="database",
    families=FAMILIES,
    kinds=DATABASE_RULES,
    # the audit's ids that name the defect a static rule names, documented by that rule
    reports_too=tuple(sorted(set(RLS_RULES) - set(_CATALOG_DOCS) - set(_PROBE_DOCS))),
)
