"""RLS audit and isolation probe against a real PostgreSQL (every available major).

The schema below holds, in schema `acme`, one table (or view, function, role) per defect kind
and a correct counterpart beside each (`d_*` defective, `ok_*` correct). Every defect must be
flagged and every correct object must be clean, by the audit, and by the probe where the defect
is observable by acting as the application role.

Which half catches what (a leak needs both a defect and a role that can use it):

- Audit and probe: RLS disabled (d_rls_disabled), a partition without RLS (d_part_2026),
  always-true USING (d_true_policy), always-true WITH CHECK (d_true_check), a column compared
  with itself (d_self_compare), a second permissive policy ORing rows in (d_or_policy), an OR
  inside the tenant policy (d_or_expression), a policy keyed on the wrong column
  (d_wrong_column; the probe sees it because generated rows carry the other tenant's id in
  columns of the tenant's type), an INSERT policy keyed on something else (d_insert_unkeyed), a
  unique key without the tenant column (d_global_unique, and the surrogate one of d_fk_parent),
  a foreign key without the tenant column (d_fk), TRUNCATE granted (d_truncate), the app role
  owning a table (d_owned_by_app) or being a member of its owner (d_member_owner) — the probe
  sees both through TRUNCATE, RLS being forced —, a definer view (d_view), a materialized view
  (d_matview), and superuser / BYPASSRLS application roles.
- Audit only: RLS not forced (the app role is not the owner, so nothing shows), a table with
  RLS and no policy, an INSERT policy without WITH CHECK and commands no policy covers (these
  refuse, they do not leak), a policy reading another setting (unset, so it matches nothing), a
  nullable tenant column, SECURITY DEFINER functions (the probe does not call functions), an
  application role that can only reach BYPASSRLS through SET ROLE (the attribute is not
  inherited), a missing application role, unknown exemptions.
- Probe only: a policy that calls a function whose body reads the tenant setting but does not
  filter by it (d_lying_function: `t IS NOT NULL OR t::text = current_setting(...)`); the audit
  trusts a function that reads the setting, the probe sees every row of B. In general only the
  probe sees what the catalog cannot predict (function and trigger behaviour, data-dependent
  policies). The probe also reports tables whose rows it cannot generate (d_ungeneratable)
  instead of skipping them silently.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from migguard.core.findings import Severity
from migguard.pg.introspect import introspect
from migguard.rls.audit import always_true, audit, normalise_name
from migguard.rls.findings import RLS_RULES as RULES
from migguard.rls.probe import probe

pytestmark = pytest.mark.pg

KEYED = "tenant_id = current_setting('app.tenant_id')::uuid"
DML = "SELECT, INSERT, UPDATE, DELETE"
STANDARD_POLICY = ("tenant_isolation", f"USING ({KEYED}) WITH CHECK ({KEYED})")


def table(name: str, *, extra: str = "", key: str = "PRIMARY KEY (tenant_id, id)", nullable: bool = False,
          enable: bool = True, force: bool = True, policies: tuple | list = (STANDARD_POLICY,),
          grants: str = DML, partition: str = "") -> str:
    """A multi-tenant table of acme, correct unless told otherwise."""
    tenant = "tenant_id uuid" + ("" if nullable else " NOT NULL") + " REFERENCES acme.tenants (id)"
    columns = ", ".join(c for c in ("id bigint GENERATED ALWAYS AS IDENTITY", tenant, "body text NOT NULL",
                                    extra, key) if c)
    lines = [f"CREATE TABLE acme.{name} ({columns}){partition};"]
    lines += [f"ALTER TABLE acme.{name} ENABLE ROW LEVEL SECURITY;"] if enable else []
    lines += [f"ALTER TABLE acme.{name} FORCE ROW LEVEL SECURITY;"] if force else []
    lines += [f"CREATE POLICY {policy} ON acme.{name} {body};" for policy, body in policies]
    lines += [f"GRANT {grants} ON acme.{name} TO {{app}};"] if grants else []
    return "\n".join(lines)


OR_PUBLIC = f"USING (({KEYED}) OR is_public) WITH CHECK ({KEYED})"
PER_COMMAND = [("t_select", f"FOR SELECT USING ({KEYED})"), ("t_update", f"FOR UPDATE USING ({KEYED})"),
               ("t_delete", f"FOR DELETE USING ({KEYED})")]

SCHEMA = "\n".join([
    "CREATE SCHEMA acme AUTHORIZATION {own};",
    "GRANT USAGE ON SCHEMA acme TO {app};",
    "GRANT CREATE, USAGE ON SCHEMA acme TO {own2};",
    "SET ROLE {own};",
    "CREATE TABLE acme.tenants (id uuid PRIMARY KEY, name text NOT NULL);",
    "GRANT REFERENCES ON acme.tenants TO {own2};",
    "CREATE TYPE acme.plan AS ENUM ('free', 'pro');",
    "CREATE DOMAIN acme.code AS varchar(6) CHECK (VALUE ~ '^[a-z0-9]+$');",
    "CREATE FUNCTION acme.current_tenant() RETURNS uuid LANGUAGE sql STABLE "
    "AS $$ SELECT current_setting('app.tenant_id', true)::uuid $$;",
    # --- RLS switched off, not forced, no policy
    table("d_rls_disabled", enable=False, force=False), table("ok_rls_disabled"),
    table("d_not_forced", force=False), table("ok_not_forced"),
    table("d_no_policy", policies=()), table("ok_no_policy"),
    # --- always-true policies
    table("d_true_policy", policies=[("allow_all", "USING (true) WITH CHECK (true)")]), table("ok_true_policy"),
    table("d_true_check", policies=[("half", f"USING ({KEYED}) WITH CHECK (1 = 1)")]), table("ok_true_check"),
    table("d_self_compare", policies=[("self", "USING (tenant_id = tenant_id)")]), table("ok_self_compare"),
    # --- OR-widening: a second permissive policy, an OR inside the policy; the fix is a restrictive policy
    table("d_or_policy", extra="is_public boolean NOT NULL DEFAULT false",
          policies=[STANDARD_POLICY, ("public_read", "FOR SELECT USING (is_public)")]),
    table("ok_or_policy", extra="is_public boolean NOT NULL DEFAULT false",
          policies=[("tenant_guard", f"AS RESTRICTIVE USING ({KEYED}) WITH CHECK ({KEYED})"),
                    ("open", "USING (true) WITH CHECK (true)")]),
    table("d_or_expression", extra="is_public boolean NOT NULL DEFAULT false",
          policies=[("tenant_or_public", OR_PUBLIC)]),
    table("ok_or_expression", extra="is_public boolean NOT NULL DEFAULT false"),
    # --- keyed on the wrong column, on the wrong setting
    table("d_wrong_column", extra="owner_id uuid NOT NULL",
          policies=[("by_owner", "USING (owner_id = current_setting('app.tenant_id')::uuid) "
                                 "WITH CHECK (owner_id = current_setting('app.tenant_id')::uuid)")]),
    table("ok_wrong_column", extra="owner_id uuid NOT NULL"),
    table("d_wrong_setting", policies=[("other_setting",
                                        "USING (tenant_id = current_setting('app.tenant', true)::uuid) "
                                        "WITH CHECK (tenant_id = current_setting('app.tenant', true)::uuid)")]),
    table("ok_wrong_setting", policies=[("via_function", "USING (tenant_id = acme.current_tenant()) "
                                                         "WITH CHECK (tenant_id = acme.current_tenant())")]),
    # --- a policy calling a function whose body reads the setting but does not filter by it
    "CREATE FUNCTION acme.tenant_visible(t uuid) RETURNS boolean LANGUAGE sql STABLE "
    "AS $$ SELECT t IS NOT NULL OR t::text = current_setting('app.tenant_id', true) $$;",
    "CREATE FUNCTION acme.tenant_matches(t uuid) RETURNS boolean LANGUAGE sql STABLE "
    "AS $$ SELECT t::text = current_setting('app.tenant_id', true) $$;",
    table("d_lying_function", policies=[("via_function", "USING (acme.tenant_visible(tenant_id)) "
                                                         "WITH CHECK (acme.tenant_visible(tenant_id))")]),
    table("ok_lying_function", policies=[("via_function", "USING (acme.tenant_matches(tenant_id)) "
                                                          "WITH CHECK (acme.tenant_matches(tenant_id))")]),
    # --- INSERT policies: no WITH CHECK; keyed on something else
    table("d_insert_no_check", policies=[*PER_COMMAND, ("t_insert", "FOR INSERT")]),
    table("ok_insert_no_check", policies=[*PER_COMMAND, ("t_insert", f"FOR INSERT WITH CHECK ({KEYED})")]),
    table("d_insert_unkeyed", policies=[*PER_COMMAND, ("t_insert", "FOR INSERT WITH CHECK (body <> '')")]),
    table("ok_insert_unkeyed", policies=[*PER_COMMAND, ("t_insert", "FOR INSERT WITH CHECK "
                                                                    f"(({KEYED}) AND body <> '')")]),
    # --- commands the role may run that no policy covers
    table("d_uncovered", policies=[("t_select", f"FOR SELECT USING ({KEYED})")]),
    table("ok_uncovered", policies=[("t_select", f"FOR SELECT USING ({KEYED})")], grants="SELECT"),
    # --- nullable tenant column
    table("d_nullable", nullable=True, key="UNIQUE (tenant_id, id)"), table("ok_nullable"),
    # --- unique keys without the tenant column (natural: error; surrogate: info)
    table("d_global_unique", extra="email text NOT NULL UNIQUE"),
    table("ok_global_unique", extra="email text NOT NULL, UNIQUE (tenant_id, email)"),
    table("d_fk_parent", extra="UNIQUE (id)"), table("ok_fk_parent"),
    # --- foreign keys between tenant tables without the tenant column
    table("d_fk", extra="parent_id bigint NOT NULL REFERENCES acme.d_fk_parent (id)"),
    table("ok_fk", extra="parent_id bigint NOT NULL, FOREIGN KEY (tenant_id, parent_id) "
                         "REFERENCES acme.ok_fk_parent (tenant_id, id)"),
    # --- TRUNCATE granted
    table("d_truncate", grants=f"{DML}, TRUNCATE"), table("ok_truncate"),
    # --- partitions: the parent is covered, a partition is not
    table("d_part", extra="created date NOT NULL", key="PRIMARY KEY (tenant_id, id, created)",
          partition=" PARTITION BY RANGE (created)"),
    "CREATE TABLE acme.d_part_2026 PARTITION OF acme.d_part FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON acme.d_part_2026 TO {app};",
    table("ok_part", extra="region text NOT NULL", key="PRIMARY KEY (tenant_id, id, region)",
          partition=" PARTITION BY LIST (region)"),
    "CREATE TABLE acme.ok_part_eu PARTITION OF acme.ok_part FOR VALUES IN ('eu');",
    "CREATE TABLE acme.ok_part_us PARTITION OF acme.ok_part FOR VALUES IN ('us');",
    *[f"ALTER TABLE acme.{p} ENABLE ROW LEVEL SECURITY; ALTER TABLE acme.{p} FORCE ROW LEVEL SECURITY; "
      f"CREATE POLICY tenant_isolation ON acme.{p} USING ({KEYED}) WITH CHECK ({KEYED}); "
      f"GRANT {DML} ON acme.{p} TO {{app}};" for p in ("ok_part_eu", "ok_part_us")],
    table("ok_hash", key="PRIMARY KEY (tenant_id, id)", partition=" PARTITION BY HASH (id)"),
    *[f"CREATE TABLE acme.ok_hash_{r} PARTITION OF acme.ok_hash FOR VALUES WITH (modulus 2, remainder {r}); "
      f"ALTER TABLE acme.ok_hash_{r} ENABLE ROW LEVEL SECURITY; ALTER TABLE acme.ok_hash_{r} FORCE ROW LEVEL SECURITY; "
      f"CREATE POLICY tenant_isolation ON acme.ok_hash_{r} USING ({KEYED}) WITH CHECK ({KEYED});" for r in (0, 1)],
    # --- values of many kinds the probe must generate (enum, domain, CHECKs, generated column, arrays…)
    table("ok_types", extra="plan acme.plan NOT NULL, code acme.code NOT NULL, n numeric(4, 1) NOT NULL "
                            "CHECK (n > 0), starts date NOT NULL, ends date NOT NULL, ip inet NOT NULL, "
                            "tags text[] NOT NULL, doc jsonb NOT NULL, short varchar(3) NOT NULL, "
                            "total numeric GENERATED ALWAYS AS (n * 2) STORED, CHECK (ends > starts), "
                            "UNIQUE (tenant_id, code)"),
    table("d_ungeneratable", extra="CHECK (body = md5(tenant_id::text))"),  # no generator guesses this
    table("d_exempt", enable=False, force=False),
    "RESET ROLE;",
    # --- the app role owns a table, or is a member of its owner (RLS forced on both)
    table("d_owned_by_app"), "ALTER TABLE acme.d_owned_by_app OWNER TO {app};",
    "SET ROLE {own2};", table("d_member_owner"), "RESET ROLE;",
    # --- views over tenant data: definer view and materialized view (owned by the superuser) vs invoker
    table("ok_view_base"),
    "CREATE VIEW acme.d_view AS SELECT id, tenant_id, body FROM acme.ok_view_base;",
    "CREATE MATERIALIZED VIEW acme.d_matview AS SELECT tenant_id, body FROM acme.ok_view_base;",
    "CREATE VIEW acme.ok_view WITH (security_invoker = true) AS SELECT id, tenant_id, body FROM acme.ok_view_base;",
    "GRANT SELECT ON acme.d_view, acme.d_matview, acme.ok_view TO {app};",
    # --- SECURITY DEFINER functions reading tenant tables (body text and pg_depend) vs invoker
    "CREATE FUNCTION acme.d_count_all() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER "
    "AS $$ BEGIN RETURN (SELECT count(*) FROM acme.ok_view_base); END $$;",
    "CREATE FUNCTION acme.d_count_atomic() RETURNS bigint LANGUAGE sql SECURITY DEFINER "
    "BEGIN ATOMIC SELECT count(*) FROM acme.ok_truncate; END;",
    "CREATE FUNCTION acme.ok_count() RETURNS bigint LANGUAGE sql "
    "AS $$ SELECT count(*) FROM acme.ok_view_base $$;",
])

EXEMPT = ("acme.d_exempt", "acme.no_such_table")

# table -> rule ids the audit must report on it (nothing else may be reported on d_*/ok_* objects)
AUDIT = {
    "acme.d_rls_disabled": {"require-rls-enabled"},
    "acme.d_not_forced": {"require-rls-forced"},
    "acme.d_no_policy": {"require-tenant-policy"},
    "acme.d_true_policy": {"ban-constant-true-policy"},
    "acme.d_true_check": {"ban-constant-true-policy"},
    "acme.d_self_compare": {"ban-constant-true-policy"},
    "acme.d_or_policy": {"rls-permissive-or-widening"},
    "acme.d_or_expression": {"rls-permissive-or-widening"},
    "acme.d_wrong_column": {"rls-policy-not-tenant-keyed"},
    "acme.d_wrong_setting": {"rls-policy-not-tenant-keyed"},
    "acme.d_insert_no_check": {"require-policy-with-check"},
    "acme.d_insert_unkeyed": {"rls-policy-not-tenant-keyed"},
    "acme.d_uncovered": {"rls-policy-command-uncovered"},
    "acme.d_nullable": {"ban-nullable-tenant-column"},
    "acme.d_global_unique": {"rls-unique-key-without-tenant"},
    "acme.d_fk_parent": {"rls-unique-key-without-tenant"},
    "acme.d_fk": {"rls-foreign-key-without-tenant"},
    "acme.d_truncate": {"rls-truncate-granted"},
    "acme.d_part_2026": {"require-rls-enabled", "require-tenant-policy"},
    "acme.d_owned_by_app": {"rls-app-role-owner"},
    "acme.d_member_owner": {"rls-app-role-member-of-owner"},
    "acme.d_view": {"require-security-invoker-view"},
    "acme.d_matview": {"require-security-invoker-view"},
    "function:acme.d_count_all()": {"ban-security-definer-function"},
    "function:acme.d_count_atomic()": {"ban-security-definer-function"},
    "acme.d_exempt": {"rls-exempt"},
    "acme.no_such_table": {"rls-exempt-unknown"},
}

# table -> rule ids the probe must report on it
PROBE = {
    "acme.d_rls_disabled": {"rls-probe-select-leak", "rls-probe-update-leak", "rls-probe-delete-leak",
                            "rls-probe-insert-leak", "rls-probe-move-leak"},
    "acme.d_true_policy": {"rls-probe-select-leak", "rls-probe-update-leak", "rls-probe-delete-leak",
                           "rls-probe-insert-leak", "rls-probe-move-leak"},
    "acme.d_true_check": {"rls-probe-insert-leak", "rls-probe-move-leak"},
    "acme.d_self_compare": {"rls-probe-select-leak", "rls-probe-update-leak", "rls-probe-delete-leak",
                            "rls-probe-insert-leak", "rls-probe-move-leak"},
    "acme.d_or_policy": {"rls-probe-select-leak"},
    "acme.d_or_expression": {"rls-probe-select-leak", "rls-probe-update-leak", "rls-probe-delete-leak"},
    "acme.d_wrong_column": {"rls-probe-select-leak", "rls-probe-update-leak", "rls-probe-delete-leak"},
    "acme.d_insert_unkeyed": {"rls-probe-insert-leak"},
    "acme.d_lying_function": {"rls-probe-select-leak", "rls-probe-update-leak", "rls-probe-delete-leak",
                              "rls-probe-insert-leak", "rls-probe-move-leak"},
    "acme.d_global_unique": {"rls-probe-unique-leak"},
    "acme.d_fk_parent": {"rls-probe-unique-leak"},
    "acme.d_fk": {"rls-probe-cross-tenant-reference"},
    "acme.d_truncate": {"rls-probe-truncate-leak"},
    "acme.d_part_2026": {"rls-probe-select-leak", "rls-probe-update-leak", "rls-probe-delete-leak",
                         "rls-probe-insert-leak", "rls-probe-move-leak"},
    "acme.d_owned_by_app": {"rls-probe-truncate-leak"},
    "acme.d_member_owner": {"rls-probe-truncate-leak"},
    "acme.d_view": {"rls-probe-view-leak"},
    "acme.d_matview": {"rls-probe-view-leak"},
    "acme.d_ungeneratable": {"rls-probe-skipped"},
    "acme.d_exempt": {"rls-exempt"},
    "acme.no_such_table": {"rls-exempt-unknown"},
}


# Application roles that bypass RLS, and one that only reaches BYPASSRLS through SET ROLE.
ROLES_SQL = """
CREATE ROLE {sup} NOLOGIN SUPERUSER;
CREATE ROLE {byp} NOLOGIN BYPASSRLS;
CREATE ROLE {bypasser} NOLOGIN BYPASSRLS;
CREATE ROLE {esc} NOLOGIN;
GRANT {bypasser} TO {esc};
"""
ROLE_GRANTS = "GRANT USAGE ON SCHEMA acme TO {byp}, {esc}; GRANT {dml} ON acme.ok_rls_disabled TO {byp}, {esc};"

# Rows already in the database, so the probe has something to leave alone.
SEED = """
INSERT INTO acme.tenants VALUES ('cccccccc-cccc-4ccc-8ccc-cccccccccccc', 'seed');
INSERT INTO acme.ok_rls_disabled (tenant_id, body) VALUES ('cccccccc-cccc-4ccc-8ccc-cccccccccccc', 'seed');
INSERT INTO acme.d_global_unique (tenant_id, body, email)
    VALUES ('cccccccc-cccc-4ccc-8ccc-cccccccccccc', 'seed', 'seed@example.com');
INSERT INTO acme.d_fk_parent (tenant_id, body) VALUES ('cccccccc-cccc-4ccc-8ccc-cccccccccccc', 'seed');
INSERT INTO acme.d_fk (tenant_id, body, parent_id)
    SELECT tenant_id, 'seed', id FROM acme.d_fk_parent;
INSERT INTO acme.d_part (tenant_id, body, created)
    VALUES ('cccccccc-cccc-4ccc-8ccc-cccccccccccc', 'seed', '2026-05-01');
"""


def _object(path: str) -> str:
    return path.removeprefix("db:")


def _rules_by_object(result, *, role: str | None = None) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for f in result.findings:
        if role is None or f.message.startswith(f"{role},") or not f.rule.startswith("rls-probe-"):
            found.setdefault(_object(f.path), set()).add(f.rule)
    return found


@pytest.fixture(scope="module")
def tenant_db(pg_cluster):
    """A database holding the acme schema, and the role names it uses (unique per run: roles are
    cluster-wide, and the session cluster is shared)."""
    suffix = uuid.uuid4().hex[:8]
    roles = {name: f"{name}_{suffix}" for name in ("app", "own", "own2", "sup", "byp", "bypasser", "esc")}
    database = f"rls_{suffix}"
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
        for name in ("app", "own", "own2"):
            admin.execute(f'CREATE ROLE "{roles[name]}" NOLOGIN')
        admin.execute(f'GRANT "{roles["own2"]}" TO "{roles["app"]}"')
        admin.execute(ROLES_SQL.format(**roles))
    url = pg_cluster.url(database)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SCHEMA.format(**roles))
            conn.execute(ROLE_GRANTS.format(dml=DML, **roles))
            conn.execute(SEED)
        yield url, roles
    finally:
        with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            for role in roles.values():
                admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_audit_flags_every_defect_and_leaves_correct_objects_clean(tenant_db):
    url, roles = tenant_db
    result = audit(url, app_roles=(roles["app"],), exempt_tables=EXEMPT)
    assert _rules_by_object(result) == AUDIT
    severities = {(_object(f.path), f.rule): f.severity for f in result.findings}
    assert severities[("acme.d_global_unique", "rls-unique-key-without-tenant")] == Severity.ERROR
    assert severities[("acme.d_fk_parent", "rls-unique-key-without-tenant")] == Severity.INFO  # surrogate id
    assert severities[("acme.d_insert_no_check", "require-policy-with-check")] == Severity.WARNING
    assert {"acme.d_part", "acme.d_part_2026", "acme.ok_hash_0", "acme.ok_part_eu"} <= set(result.tables)
    assert "acme.d_exempt" not in result.tables and "acme.tenants" not in result.tables
    assert result.exempt == ("acme.d_exempt",) and result.roles == (roles["app"],)
    assert not result.ok and set(result.timings) == {"catalog", "checks", "total"}
    for f in result.findings:
        assert f.rule in RULES and (f.line, f.column, f.statement) == (1, 1, None)
        assert f.severity == RULES[f.rule][0] or f.rule in ("rls-unique-key-without-tenant",
                                                            "require-security-invoker-view",
                                                            "ban-security-definer-function")
    # every finding names the object and, where one is involved, the application role
    by_key = {(_object(f.path), f.rule): f for f in result.findings}
    assert roles["app"] in by_key[("acme.d_truncate", "rls-truncate-granted")].message
    assert "acme.d_part" in by_key[("acme.d_part_2026", "require-rls-enabled")].message
    assert "tenants holds" not in by_key[("acme.d_fk", "rls-foreign-key-without-tenant")].message


def test_exemption_is_the_only_way_to_silence_a_table(tenant_db):
    url, roles = tenant_db
    result = audit(url, app_roles=(roles["app"],))
    assert _rules_by_object(result)["acme.d_exempt"] == {"require-rls-enabled"}
    assert result.exempt == () and "acme.d_exempt" in result.tables


def test_probe_catches_every_observable_defect_and_nothing_else(tenant_db):
    url, roles = tenant_db
    result = probe(url, app_roles=(roles["app"],), exempt_tables=EXEMPT)
    assert _rules_by_object(result) == PROBE
    assert result.exempt == ("acme.d_exempt",)
    skipped = next(f for f in result.findings if f.rule == "rls-probe-skipped")
    assert "d_ungeneratable_check" in skipped.message  # the reason, not a silent skip
    leak = next(f for f in result.findings if f.rule == "rls-probe-select-leak" and "d_rls_disabled" in f.path)
    assert leak.message.startswith(f"{roles['app']}, acting for tenant A") and "acme.d_rls_disabled" in leak.message
    assert set(result.timings) == {"catalog", "generate", "checks", "total"}


def _state(url: str) -> tuple:
    """Schema fingerprint, row count of every table, and every sequence's position."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
                              "WHERE schemaname = 'acme' ORDER BY 1").fetchall()
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for (t,) in tables}
        sequences = {name: conn.execute(f"SELECT last_value, is_called FROM {name}").fetchone()
                     for (name,) in conn.execute("SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences "
                                                 "WHERE schemaname = 'acme' ORDER BY 1").fetchall()}
    return introspect(url).fingerprint(), counts, sequences


def test_probe_leaves_the_database_unchanged(tenant_db):
    url, roles = tenant_db
    before = _state(url)
    assert before[1]["acme.d_fk"] == 1 and before[1]["acme.tenants"] == 1
    probe(url, app_roles=(roles["app"], roles["byp"]), exempt_tables=EXEMPT)
    assert _state(url) == before


def test_application_roles_that_bypass_rls(tenant_db):
    url, roles = tenant_db
    app_roles = (roles["app"], roles["sup"], roles["byp"], roles["esc"], "ghost_role_that_does_not_exist")
    result = audit(url, app_roles=app_roles, exempt_tables=EXEMPT)
    role_rules = {k: v for k, v in _rules_by_object(result).items() if k.startswith("role:")}
    assert role_rules == {
        f"role:{roles['sup']}": {"rls-app-role-superuser"},
        f"role:{roles['byp']}": {"rls-app-role-bypassrls"},
        f"role:{roles['esc']}": {"rls-app-role-bypassrls"},  # can SET ROLE to a BYPASSRLS role
        "role:ghost_role_that_does_not_exist": {"rls-app-role-missing"},
    }
    assert roles["bypasser"] in next(f.message for f in result.findings if f.path == f"db:role:{roles['esc']}")
    # the superuser's and the BYPASSRLS role's leaks show in the probe; the others' do not
    result = probe(url, app_roles=app_roles, exempt_tables=EXEMPT)
    leaks = {"rls-probe-select-leak", "rls-probe-update-leak", "rls-probe-delete-leak", "rls-probe-insert-leak",
             "rls-probe-move-leak"}
    for role in ("sup", "byp"):
        assert leaks <= _rules_by_object(result, role=roles[role])["acme.ok_rls_disabled"]
    assert "rls-probe-truncate-leak" in _rules_by_object(result, role=roles["sup"])["acme.ok_truncate"]
    for role in ("app", "esc"):
        assert "acme.ok_rls_disabled" not in _rules_by_object(result, role=roles[role])
    assert _rules_by_object(result)["role:ghost_role_that_does_not_exist"] == {"rls-probe-skipped"}


def test_audit_inside_a_callers_transaction_leaves_it_usable(tenant_db):
    url, roles = tenant_db
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE acme.scratch (tenant_id uuid NOT NULL)")
        result = audit(conn, app_roles=(roles["app"],))
        assert "acme.scratch" in result.tables
        conn.execute("INSERT INTO acme.scratch VALUES ('cccccccc-cccc-4ccc-8ccc-cccccccccccc')")
        assert conn.execute("SHOW search_path").fetchone()[0] == '"$user", public'
        conn.rollback()


def test_another_tenant_column_and_setting(tenant_db):
    url, roles = tenant_db
    result = audit(url, tenant_column="account_id", tenant_setting="app.account", app_roles=(roles["app"],))
    assert [f.rule for f in result.findings] == ["rls-no-tenant-tables"] and result.tables == ()


@pytest.mark.parametrize(("expression", "reason"), [
    ("true", "constant"), ("(1 = 1)", "constant"), ("('t'::text)::boolean", "constant"), ("(NOT false)", "constant"),
    ("(x OR true)", "constant"), ("(tenant_id = tenant_id)", "self-comparison"),
    ("(tenant_id = (current_setting('app.tenant_id'::text))::uuid)", None), ("(1 = 2)", None), ("is_public", None),
])
def test_always_true(expression, reason):
    assert always_true(expression) == reason


@pytest.mark.parametrize(("name", "normalised"), [
    ("acme.t", "acme.t"), ("T", "public.t"), ('"Acme"."My T"', "Acme.My T"), ("acme . t", "acme.t"),
])
def test_exempt_names_are_normalised(name, normalised):
    assert normalise_name(name) == normalised


GENERATOR_SCHEMA = """
CREATE TABLE tenants (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
CREATE TABLE a (tenant_id bigint NOT NULL REFERENCES tenants, id int PRIMARY KEY, b_id int,
                parent_id int REFERENCES a (id));
CREATE TABLE b (tenant_id bigint NOT NULL REFERENCES tenants, id int PRIMARY KEY, a_id int NOT NULL REFERENCES a (id));
ALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES b (id);
CREATE TABLE c (tenant_id bigint NOT NULL, id int PRIMARY KEY, d_id int NOT NULL);
CREATE TABLE d (tenant_id bigint NOT NULL, id int PRIMARY KEY, c_id int NOT NULL REFERENCES c (id));
ALTER TABLE c ADD FOREIGN KEY (d_id) REFERENCES d (id);
CREATE TABLE h (tenant_id bigint NOT NULL, k int NOT NULL, UNIQUE (tenant_id, k)) PARTITION BY HASH (k);
CREATE TABLE h0 PARTITION OF h FOR VALUES WITH (modulus 3, remainder 0);
CREATE TABLE h1 PARTITION OF h FOR VALUES WITH (modulus 3, remainder 1);
CREATE TABLE h2 PARTITION OF h FOR VALUES WITH (modulus 3, remainder 2);
CREATE TABLE r (tenant_id bigint NOT NULL, at timestamptz NOT NULL, n smallint NOT NULL CHECK (n BETWEEN 3 AND 4))
    PARTITION BY RANGE (at);
CREATE TABLE r_old PARTITION OF r FOR VALUES FROM (MINVALUE) TO ('2020-01-01');
CREATE TABLE r_rest PARTITION OF r DEFAULT;
"""


def test_probe_generates_rows_through_cycles_partitions_and_identity_parents(pg):
    """Two rows per table are generated (the identity tenants table gets the tenant values), a
    cycle is broken at its nullable foreign key, a NOT NULL cycle is reported with its reason,
    and every hash, range (MINVALUE) and default partition gets rows."""
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(GENERATOR_SCHEMA)
    result = probe(pg, app_roles=())
    skipped = {_object(f.path): f.message for f in result.findings if f.rule == "rls-probe-skipped"}
    assert set(skipped) == {"public.c", "public.d"}
    assert "cycle" in skipped["public.c"] and "NOT NULL" in skipped["public.c"]
    assert [f.rule for f in result.findings if f.rule != "rls-probe-skipped"] == []
    assert set(result.tables) >= {"public.h", "public.h0", "public.h1", "public.h2", "public.r_old", "public.r_rest"}
