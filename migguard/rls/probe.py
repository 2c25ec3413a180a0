"""The two-tenant isolation probe (SPEC section 7): prove isolation by trying to break it.

On a shadow database the caller provides (never production), in ONE transaction that is rolled
back at the end:

1. two rows, for tenants A and B, are generated in every multi-tenant table (leaf partitions
   included) and in every table they reference, as the connecting user (a superuser on the
   shadow) with the tenant setting set to the row's tenant (`rowgen.RowFactory`);
2. materialized views over tenant tables are refreshed so they hold those rows;
3. for each application role and each multi-tenant table (partitioned parents and partitions
   alike), with `SET LOCAL ROLE <role>` and the tenant setting set to tenant A, each attempt in
   its own savepoint that is rolled back: SELECT sees no row of B; UPDATE and DELETE touch none;
   INSERT of a row for B and UPDATE moving a row of A to B are refused; TRUNCATE is refused; a
   unique key without the tenant column does not report B's value as taken; a foreign key
   without the tenant column does not accept a reference to B's row; views and materialized
   views over the table show no row of B.

Sequence positions (not transactional) are put back afterwards, so the database is left as it
was. A refusal is SQLSTATE 42501 (privilege or row level security); an integrity error raised
after the policies let the statement through counts as a leak (the policy did not stop it);
anything else is reported as inconclusive. A table whose rows cannot be generated, and a role
that does not exist or cannot be assumed, is an info finding with the reason. A connecting role
that is itself subject to row-level security (not a superuser, no BYPASSRLS: a shadow run as
the tables' owner under FORCE RLS) would count tenant B's rows through the policies, with the
tenant setting naming A or unset, and report leaks that are not there: then nothing is probed,
and one info finding says why.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from migguard.core.errors import DatabaseError
from migguard.core.findings import Finding, Severity
from migguard.pg.connect import connect, describe, read_only_snapshot
from migguard.rls.audit import (
    Catalog, RlsResult, TenantTable, exemption_findings, finding, read_catalog, table_path, view_closure,
)
from migguard.rls.rowgen import Relation, Row, RowFactory, Schema, Skipped, read_schema

SEQUENCES_SQL = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
ORDER BY 1, 2
"""
# The probe counts every tenant's rows as its connecting role: that role must not be filtered by RLS.
BYPASS_SQL = "SELECT current_user::text, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
_SAVEPOINT = sql.Identifier("migguard_probe")
_REFUSED = "42501"  # insufficient_privilege: a missing grant, or a row level security WITH CHECK


@dataclass(frozen=True)
class Outcome:
    """What one attempt did: rows counted or affected, or the error that stopped it."""

    rows: int = 0
    sqlstate: str | None = None
    error: str | None = None
    after: int | None = None  # the owner's count after the statement, inside the same savepoint

    @property
    def refused(self) -> bool:
        return self.sqlstate == _REFUSED

    @property
    def integrity(self) -> bool:  # a constraint stopped a statement the policies had let through
        return bool(self.sqlstate) and self.sqlstate.startswith("23")


def probe(url: str, *, tenant_column: str = "tenant_id", tenant_setting: str = "app.tenant_id",
          app_roles: Sequence[str] = ("app_user",), exempt_tables: Iterable[str] = (),
          statement_timeout: str = "60s") -> RlsResult:
    """Two-tenant isolation probe on a shadow database (never production)."""
    return run_probe(url, tenant_column=tenant_column, tenant_setting=tenant_setting, app_roles=tuple(app_roles),
                     exempt_tables=tuple(exempt_tables), statement_timeout=statement_timeout)


def run_probe(url: str, *, tenant_column: str, tenant_setting: str, app_roles: Sequence[str],
              exempt_tables: Sequence[str], statement_timeout: str = "60s") -> RlsResult:
    """The probe on the database at `url` (a shadow); a database failure raises DatabaseError."""
    try:
        return _run(url, tenant_column, tenant_setting, app_roles, exempt_tables, statement_timeout)
    except psycopg.Error as error:
        raise DatabaseError(f"the RLS isolation probe failed: {describe(error)}") from None


def _run(url: str, tenant_column: str, tenant_setting: str, app_roles: Sequence[str],
         exempt_tables: Sequence[str], statement_timeout: str) -> RlsResult:
    started = time.perf_counter()
    with connect(url, statement_timeout=statement_timeout) as conn:
        with read_only_snapshot(conn, "migguard_probe"):
            catalog = read_catalog(conn, tenant_column=tenant_column, app_roles=app_roles,
                                   exempt_tables=exempt_tables)
            schema = read_schema(conn)
        sequences = _sequence_state(conn)
        role, bypasses = conn.execute(BYPASS_SQL).fetchone()
        conn.rollback()
        read = time.perf_counter()
        prober = _Prober(conn, catalog, schema, tenant_column, tenant_setting)
        try:
            conn.execute("SELECT set_config('lock_timeout', '10s', true)")
            if catalog.tables and not bypasses:  # its own counts would pass through the policies
                filled = time.perf_counter()
                findings = [*exemption_findings(catalog), _subject_to_rls(role, tenant_setting)]
            else:
                prober.fill()
                filled = time.perf_counter()
                findings = list(exemption_findings(catalog)) + list(prober.run())
        finally:
            conn.rollback()
            _restore_sequences(conn, sequences)
        done = time.perf_counter()
    findings.sort(key=lambda f: (*f.sort_key, f.message))
    return RlsResult(findings=tuple(findings), tables=tuple(sorted(t.qualified for t in catalog.tables.values())),
                     exempt=tuple(catalog.exempt), roles=tuple(app_roles),
                     timings={"catalog": round(read - started, 4), "generate": round(filled - read, 4),
                              "checks": round(done - filled, 4), "total": round(done - started, 4)})


def _subject_to_rls(role: str, setting: str) -> Finding:
    """The probe's own role sees the tenant tables through their policies: its counts of tenant
    B's rows (taken with `setting` still naming tenant A, or unset) would prove nothing."""
    return finding("rls-probe-skipped", f"db:role:{role}",
                   f"The isolation probe connects as {role}, which is subject to row-level security (not a "
                   f"superuser, no BYPASSRLS): its own counts of each tenant's rows would be filtered by the "
                   f"policies on {setting}, so no table was probed. Only the catalog audit checked isolation.",
                   "Run the shadow (PG_SHADOW_URL) as a superuser or a role with BYPASSRLS.")


class _Prober:
    def __init__(self, conn: psycopg.Connection, catalog: Catalog, schema: Schema, column: str,
                 setting: str) -> None:
        self.conn = conn
        self.catalog = catalog
        self.schema = schema
        self.column = column
        self.setting = setting
        self.factory = RowFactory(conn, schema, column, setting)
        self.closure = view_closure(catalog)
        self.spare: dict[tuple[int, str], Row | str] = {}  # (table, "A"/"B") -> extra row, or why not
        self.notes: list[Finding] = []
        self.counts: dict[int, tuple[int, ...]] = {}  # table -> rows of B and of A, as the owner sees them

    # --- setup

    def fill(self) -> None:
        self.factory.fill(self.catalog.tables)
        for view in self.catalog.views:
            if view["relkind"] == "m" and self.closure.get(view["oid"]):
                name = sql.Identifier(view["schema_name"], view["name"])
                outcome = self._as_owner(sql.SQL("REFRESH MATERIALIZED VIEW {}").format(name), keep=True)
                if outcome.error:
                    self.notes.append(finding(
                        "rls-probe-inconclusive", table_path(f"{view['schema_name']}.{view['name']}"),
                        f"Materialized view {view['schema_name']}.{view['name']} could not be refreshed with the "
                        f"probe's rows ({outcome.error}), so reads through it were not tested."))

    def _as_owner(self, statement: sql.Composable, *, keep: bool) -> Outcome:
        try:
            self.conn.execute(sql.SQL("SAVEPOINT {}").format(_SAVEPOINT))
            self.conn.execute(statement)
        except psycopg.Error as error:
            self.conn.execute(sql.SQL("ROLLBACK TO SAVEPOINT {}").format(_SAVEPOINT))
            return Outcome(sqlstate=error.sqlstate, error=describe(error))
        self.conn.execute(sql.SQL("{} SAVEPOINT {}").format(sql.SQL("RELEASE" if keep else "ROLLBACK TO"),
                                                            _SAVEPOINT))
        return Outcome()

    def _base_rows(self, table: TenantTable) -> tuple[Relation, Row, Row] | str:
        """The leaf holding the table's rows for A and B, or why there are none."""
        leaves = self.schema.leaves(table.oid)
        for leaf in leaves:
            rows = self.factory.rows.get(leaf, {})
            if "A" in rows and "B" in rows:
                return self.schema.relations[leaf], rows["A"], rows["B"]
        if not leaves:
            return f"{table.qualified} has no partitions to hold rows"
        reasons = "; ".join(f"{self.schema.relations[leaf].qualified}: {self.factory.skipped.get(leaf, 'not filled')}"
                            for leaf in leaves[:3])
        return f"no rows could be generated ({reasons})"

    def _spare(self, leaf: Relation, tenant: str) -> Row | str:
        """A further valid row for `tenant` in `leaf` (inserted by the owner, then rolled back)."""
        key = (leaf.oid, tenant)
        if key not in self.spare:
            try:
                self.spare[key] = self.factory.generate(leaf.oid, tenant, 3 if tenant == "B" else 4, keep=False)
            except Skipped as error:
                self.spare[key] = str(error)
        return self.spare[key]

    # --- the probe

    def run(self) -> Iterator[Finding]:
        yield from self.notes
        probeable: list[tuple[TenantTable, Relation, Row, Row]] = []
        for table in self.catalog.tables.values():
            base = self._base_rows(table)
            if isinstance(base, str):
                yield finding("rls-probe-skipped", table_path(table.qualified),
                              f"The isolation probe skipped {table.qualified}: {base}. Its isolation is only "
                              "checked by the catalog audit.",
                              "Make the table's rows generatable (or check it by hand); see the reason.")
                continue
            probeable.append((table, *base))
        for role in self.catalog.roles:
            path = f"db:role:{role['name']}"
            if role["oid"] is None:
                yield finding("rls-probe-skipped", path,
                              f"Application role {role['name']} does not exist in the probed database, so the probe "
                              "could not act as it.", "Create the role in the migrations (or fix app_roles).")
                continue
            check = self._attempt(role["name"], "", sql.SQL("SELECT 1"))
            if check.error:
                yield finding("rls-probe-skipped", path,
                              f"The probe could not act as {role['name']} ({check.error}); nothing was tested for "
                              "it.", "Run the probe as a superuser of the shadow database.")
                continue
            readable = 0
            for table, leaf, row_a, row_b in probeable:
                outcomes = list(self._table(role["name"], table, leaf, row_a, row_b))
                readable += any(op == "select" and not o.error for op, o, _ in outcomes)
                for _, _, result in outcomes:
                    if result is not None:
                        yield result
            yield from self._views(role["name"])
            if probeable and not readable:
                yield finding("rls-probe-skipped", path,
                              f"{role['name']} may not read any multi-tenant table (permission denied on every "
                              "one), so the probe proved nothing about its isolation.",
                              "Check app_roles: the probe should act as the role the application connects as.")

    def _attempt(self, role: str, tenant_text: str, statement: sql.Composable,
                 inspect: sql.Composable | None = None) -> Outcome:
        """Run `statement` as `role` acting for `tenant_text` in a savepoint that is rolled back;
        `inspect` (a count) then runs as the connecting user, before the rollback."""
        batch = sql.SQL("SAVEPOINT {sp}; SET LOCAL ROLE {role}; SELECT set_config({setting}, {value}, true); {stmt}"
                        ).format(sp=_SAVEPOINT, role=sql.Identifier(role), setting=sql.Literal(self.setting),
                                 value=sql.Literal(tenant_text), stmt=statement)
        try:
            with self.conn.cursor() as cur:
                cur.execute(batch)
                while cur.nextset():
                    pass
                if cur.description:
                    value = cur.fetchone()[0]
                    rows = int(value) if isinstance(value, int) else 1
                else:
                    rows = max(cur.rowcount, 0)
                after = None
                if inspect is not None:
                    cur.execute("RESET ROLE")
                    after = int(cur.execute(inspect).fetchone()[0])
            return Outcome(rows=rows, after=after)
        except psycopg.Error as error:
            return Outcome(sqlstate=error.sqlstate, error=describe(error))
        finally:
            self.conn.execute(sql.SQL("ROLLBACK TO SAVEPOINT {}").format(_SAVEPOINT))

    def _table(self, role: str, table: TenantTable, leaf: Relation, row_a: Row,
               row_b: Row) -> Iterator[tuple[str, Outcome, Finding | None]]:
        a, b = row_a.values[self.column], row_b.values[self.column]
        target = sql.Identifier(table.schema_name, table.name)
        column = sql.Identifier(self.column)
        is_a = sql.SQL("{}::text = {}").format(column, sql.Literal(a))
        is_b = sql.SQL("{}::text = {}").format(column, sql.Literal(b))
        relation = self.schema.relations[table.oid]
        context = _Context(role, table.qualified, self.setting, a, b)

        outcome = self._attempt(role, a, sql.SQL("SELECT count(*) FROM {} WHERE {}").format(target, is_b))
        yield "select", outcome, context.leak(
            "rls-probe-select-leak", outcome, f"read {outcome.rows} row(s) of tenant B from {table.qualified}",
            "Enable and force RLS with a SELECT (or ALL) policy keyed on the tenant column and setting, and no "
            "permissive policy that ORs other rows in.")

        # UPDATE and DELETE without WHERE: a WHERE clause reads columns, which makes PostgreSQL add the
        # SELECT policies; a blind statement faces only the UPDATE/DELETE policies. The owner then
        # counts tenant B's rows inside the same savepoint.
        count_b = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(target, is_b)
        count_a = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(target, is_a)
        if table.oid not in self.counts:  # every attempt is rolled back, so these hold for every role
            self.counts[table.oid] = tuple(int(self.conn.execute(q).fetchone()[0]) for q in (count_b, count_a))
        before_b, before_a = self.counts[table.oid]
        tenant_type = sql.SQL(table.tenant_type)

        outcome = self._attempt(role, a, sql.SQL("UPDATE {} SET {} = CAST({} AS {})").format(
            target, column, sql.Literal(a), tenant_type), inspect=count_b)
        yield "update", outcome, context.leak(
            "rls-probe-update-leak", _changed(outcome, before_b),
            f"updated {_count(outcome, before_b)} row(s) of tenant B in {table.qualified} (an UPDATE without WHERE "
            "moved them to tenant A)",
            "Key the UPDATE (or ALL) policy's USING on the tenant column and setting.")

        outcome = self._attempt(role, a, sql.SQL("DELETE FROM {}").format(target), inspect=count_b)
        if outcome.sqlstate == "23503":  # A's own rows are referenced: target B's rows by name instead
            outcome = self._attempt(role, a, sql.SQL("DELETE FROM {} WHERE {}").format(target, is_b))
            changed = outcome
        else:
            changed = _changed(outcome, before_b)
        yield "delete", outcome, context.leak(
            "rls-probe-delete-leak", changed,
            f"deleted {_count(outcome, before_b)} row(s) of tenant B from {table.qualified}",
            "Key the DELETE (or ALL) policy's USING on the tenant column and setting.")

        spare_b = self._spare(leaf, "B")
        if isinstance(spare_b, Row):
            statement = self.factory.insert_statement(leaf, self._explicit(leaf, spare_b.values), into=relation,
                                                      returning=False)
            outcome = self._attempt(role, a, statement)
            yield "insert", outcome, context.leak(
                "rls-probe-insert-leak", outcome, f"inserted a row for tenant B into {table.qualified}",
                "Give INSERT a WITH CHECK keyed on the tenant column and setting (an ALL policy's USING serves "
                "too).", rows_needed=False)
        else:
            yield "insert", Outcome(), context.skipped("INSERT of a row for tenant B", spare_b)

        outcome = self._attempt(role, a, sql.SQL("UPDATE {} SET {} = CAST({} AS {})").format(
            target, column, sql.Literal(b), tenant_type), inspect=count_a)
        yield "move", outcome, context.leak(
            "rls-probe-move-leak", _changed(outcome, before_a),
            f"moved {_count(outcome, before_a)} row(s) of {table.qualified} from tenant A to tenant B",
            "Give UPDATE a WITH CHECK keyed on the tenant column and setting (or no WITH CHECK, so USING applies).")

        outcome = self._attempt(role, a, sql.SQL("TRUNCATE {}").format(target))
        truncated = not outcome.error or outcome.sqlstate == "0A000"  # 0A000: refused only for foreign keys
        yield "truncate", outcome, context.leak(
            "rls-probe-truncate-leak", Outcome(rows=1) if truncated else outcome,
            f"was allowed to TRUNCATE {table.qualified}, which removes every tenant's rows" if not outcome.error else
            f"passed the TRUNCATE privilege check of {table.qualified} (only a foreign key stopped it; "
            "TRUNCATE ... CASCADE would not stop)",
            f"REVOKE TRUNCATE ON {table.qualified} FROM {role} (and from PUBLIC), and make sure {role} is not the "
            "owner or a member of it.")

        yield from self._unique_keys(role, table, leaf, relation, row_b, context)
        yield from self._foreign_keys(role, table, leaf, relation, context)

    def _explicit(self, leaf: Relation, values: dict[str, str | None]) -> dict[str, object]:
        """Every stored column of a generated row, so the role's INSERT evaluates no default (no
        sequence privilege needed, nothing but row level security to refuse it)."""
        return {c.name: values.get(c.name) for c in leaf.columns if not c.generated}

    def _unique_keys(self, role: str, table: TenantTable, leaf: Relation, relation: Relation, row_b: Row,
                     context: _Context) -> Iterator[tuple[str, Outcome, Finding | None]]:
        keys = [k for k in table.unique_keys if table.tenant_attnum not in k["attnums"] and 0 not in k["attnums"]]
        if not keys:
            return
        spare_a = self._spare(leaf, "A")
        if not isinstance(spare_a, Row):
            yield "unique", Outcome(), context.skipped("the unique-key existence test", spare_a)
            return
        for key in keys:
            names = [next((c.name for c in relation.columns if c.attnum == n), None) for n in key["attnums"]]
            taken = {n: row_b.values.get(n) for n in names if n}
            if len(taken) != len(names) or any(v is None for v in taken.values()):
                continue
            values = self._explicit(leaf, spare_a.values) | taken
            outcome = self._attempt(role, context.a, self.factory.insert_statement(leaf, values, into=relation,
                                                                                 returning=False))
            leaked = outcome.sqlstate == "23505"
            name = key["constraint_name"] or key["name"]
            yield "unique", outcome, context.leak(
                "rls-probe-unique-leak", Outcome(rows=1) if leaked else Outcome(),
                f"learned that tenant B holds ({', '.join(names)}) = ({', '.join(str(v) for v in taken.values())}): "
                f"its insert into {table.qualified} failed with a unique violation of {name}",
                f"Include {self.column} in {name}.",
                severity=Severity.INFO if key["surrogate"] else None)

    def _foreign_keys(self, role: str, table: TenantTable, leaf: Relation, relation: Relation,
                      context: _Context) -> Iterator[tuple[str, Outcome, Finding | None]]:
        for fk in table.foreign_keys:
            parent = self.catalog.tables.get(fk["refrelid"])
            if parent is None or (table.tenant_attnum, parent.tenant_attnum) in zip(
                    fk["attnums"], fk["ref_attnums"], strict=False):
                continue
            spare_a = self._spare(leaf, "A")
            parent_b = self.factory.parent_row(parent.oid, "B")
            if not isinstance(spare_a, Row) or parent_b is None:
                yield "reference", Outcome(), context.skipped(
                    f"the cross-tenant reference test of {fk['name']}",
                    spare_a if isinstance(spare_a, str) else f"no row of {parent.qualified} for tenant B")
                continue
            values = self._explicit(leaf, spare_a.values) | {
                column: parent_b.values.get(ref) for column, ref in zip(fk["columns"], fk["ref_columns"], strict=False)}
            outcome = self._attempt(role, context.a, self.factory.insert_statement(leaf, values, into=relation,
                                                                                 returning=False))
            yield "reference", outcome, context.leak(
                "rls-probe-cross-tenant-reference", Outcome(rows=1) if not outcome.error else Outcome(),
                f"inserted a row into {table.qualified} whose foreign key {fk['name']} points at tenant B's row of "
                f"{parent.qualified}",
                f"Make the foreign key include {self.column}: FOREIGN KEY ({self.column}, "
                f"{', '.join(fk['columns'])}) REFERENCES {parent.qualified} ({self.column}, "
                f"{', '.join(fk['ref_columns'])}).")

    def _views(self, role: str) -> Iterator[Finding]:
        for view in self.catalog.views:
            tables = [self.catalog.tables[o] for o in sorted(self.closure.get(view["oid"], ()))]
            if not tables or not view["has_tenant_column"]:
                continue
            base = next((b for b in (self._base_rows(t) for t in tables) if not isinstance(b, str)), None)
            if base is None:
                continue
            _, row_a, row_b = base
            a, b = row_a.values[self.column], row_b.values[self.column]
            name = f"{view['schema_name']}.{view['name']}"
            outcome = self._attempt(role, a, sql.SQL("SELECT count(*) FROM {} WHERE {}::text = {}").format(
                sql.Identifier(view["schema_name"], view["name"]), sql.Identifier(self.column), sql.Literal(b)))
            kind = "materialized view" if view["relkind"] == "m" else "view"
            result = _Context(role, name, self.setting, a, b).leak(
                "rls-probe-view-leak", outcome, f"read {outcome.rows} row(s) of tenant B through {kind} {name}",
                "Make the view security_invoker (ALTER VIEW … SET (security_invoker = true)); do not grant "
                "materialized views over tenant data to application roles.")
            if result is not None:
                yield result


def _changed(outcome: Outcome, before: int) -> Outcome:
    """The outcome as a leak test: rows = how many of the watched rows the statement changed."""
    if outcome.error or outcome.after is None:
        return outcome
    return Outcome(rows=max(before - outcome.after, 0))


def _count(outcome: Outcome, before: int) -> int:
    return max(before - outcome.after, 0) if outcome.after is not None else outcome.rows


@dataclass(frozen=True)
class _Context:
    role: str
    table: str
    setting: str
    a: str
    b: str

    def leak(self, rule: str, outcome: Outcome, what: str, hint: str, *, rows_needed: bool = True,
             severity: Severity | None = None) -> Finding | None:
        acting = f"{self.role}, acting for tenant A ({self.setting} = '{self.a}')"
        if outcome.error and outcome.integrity and rule in ("rls-probe-update-leak", "rls-probe-delete-leak",
                                                             "rls-probe-move-leak"):
            return finding(rule, table_path(self.table),
                           f"{acting}, got past the row level security of {self.table} for tenant B's rows "
                           f"('{self.b}'): only a constraint stopped the statement ({outcome.error}).", hint,
                           severity=severity)
        if outcome.error:
            if outcome.refused or outcome.integrity:
                return None
            return finding("rls-probe-inconclusive", table_path(self.table),
                           f"The probe's {rule.removeprefix('rls-probe-').removesuffix('-leak')} attempt on "
                           f"{self.table} as {self.role} failed with SQLSTATE {outcome.sqlstate} ({outcome.error}), "
                           "neither a refusal nor a success; this check proved nothing.",
                           "Look at the error: a policy or trigger that needs another setting, or a statement "
                           "timeout, can hide a leak.")
        if rows_needed and outcome.rows <= 0:
            return None
        return finding(rule, table_path(self.table), f"{acting}, {what}.", hint, severity=severity)

    def skipped(self, what: str, reason: str) -> Finding:
        return finding("rls-probe-skipped", table_path(self.table),
                       f"The probe skipped {what} on {self.table} as {self.role}: {reason}.")


# --- sequences (their positions are not transactional) ------------------------------------------


def _sequence_state(conn: psycopg.Connection) -> dict[tuple[str, str], tuple[int, bool]] | None:
    try:
        names = conn.execute(SEQUENCES_SQL).fetchall()
        if not names:
            return {}
        query = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {}, {}, last_value, is_called FROM {}").format(
                sql.Literal(schema), sql.Literal(name), sql.Identifier(schema, name)) for schema, name in names)
        return {(r[0], r[1]): (r[2], r[3]) for r in conn.execute(query).fetchall()}
    except psycopg.Error:
        conn.rollback()
        return None


def _restore_sequences(conn: psycopg.Connection, before: dict[tuple[str, str], tuple[int, bool]] | None) -> None:
    if not before:
        return
    after = _sequence_state(conn)
    if after is None:
        return
    changed = [(key, state) for key, state in before.items() if after.get(key) != state]
    for (schema, name), (last_value, is_called) in changed:
        conn.execute("SELECT setval(%s::regclass, %s, %s)",
                     (sql.Identifier(schema, name).as_string(conn), last_value, is_called))
    conn.commit()

