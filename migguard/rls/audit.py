"""Row level security and tenant isolation of a real database (SPEC section 7).

Two halves, both returning an `RlsResult`:

- `audit(conn_or_url)` reads the catalog (one read-only snapshot, one query per object kind) and
  checks every multi-tenant table — a table, partitioned table or partition with the tenant
  column — for what lets one tenant reach another's rows: RLS off or not forced, missing,
  always-true, wrongly keyed or OR-widened policies, missing WITH CHECK/USING, commands no policy
  covers, a nullable tenant column, unique keys and foreign keys without the tenant column,
  TRUNCATE granted, application roles that are superusers, BYPASSRLS, owners or members of the
  owner, views that are not `security_invoker`, materialized views, and SECURITY DEFINER
  functions that read tenant tables.
- `probe(url)` (in `rls/probe.py`) proves isolation by trying to break it on a shadow database.

Policy expressions are read as PostgreSQL deparses them (`pg_get_expr`) and parsed with
PostgreSQL's own grammar (pglast). A policy is keyed on the tenant when its expression, as a
boolean formula, cannot be true unless an atom comparing the tenant column with the tenant
setting (`current_setting('<tenant_setting>')`, directly, in a sub-select, or through a
function whose body reads it) is true.

Exemptions come only from `exempt_tables`; each one is listed in the result and as an info
finding. Rule ids shared with the static rules (`require-rls-enabled`, `require-rls-forced`,
`require-tenant-policy`, `ban-constant-true-policy`, `ban-nullable-tenant-column`,
`ban-security-definer-function`, `require-security-invoker-view`) name the same defects; the
others, with the severity and summary of every id the audit and the probe report, are
catalogued in `migguard.rls.findings.RLS_RULES`.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import psycopg
from pglast import ast, enums, parse_sql
from pglast.stream import RawStream
from pydantic import BaseModel, ConfigDict, Field

from migguard.core.errors import DatabaseError
from migguard.core.findings import Finding, Severity
from migguard.pg import catalog as q
from migguard.pg.catalog import CatalogReader
from migguard.pg.connect import read_only_snapshot
from migguard.rls.findings import RLS_RULES

COMMANDS = ("select", "insert", "update", "delete")
_POLCMD = {"r": "select", "a": "insert", "w": "update", "d": "delete", "*": "all"}


class RlsResult(BaseModel):
    """What the audit or the probe found. `ok` is whether nothing at error severity was found."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    findings: tuple[Finding, ...] = ()
    tables: tuple[str, ...] = ()  # multi-tenant tables checked (schema.name), exemptions left out
    exempt: tuple[str, ...] = ()  # exempt_tables entries that matched a relation
    roles: tuple[str, ...] = ()  # application roles checked
    timings: dict[str, float] = Field(default_factory=dict)  # seconds per phase

    @property
    def ok(self) -> bool:
        return not any(f.severity == Severity.ERROR for f in self.findings)


def finding(rule: str, path: str, message: str, hint: str | None = None,
            severity: Severity | None = None) -> Finding:
    """A Finding at a database pseudo-path (`db:schema.table`, `db:role:name`, …), line 1."""
    return Finding(rule=rule, severity=severity or RLS_RULES[rule][0], path=path, line=1, column=1, end_line=1,
                   end_column=1, statement=None, message=message, hint=hint)


def table_path(name: str) -> str:
    return f"db:{name}"


# --- catalog (the queries: pg/catalog.py RLS_*) ----------------------------------------------------

@dataclass
class TenantTable:
    oid: int
    schema_name: str
    name: str
    relkind: str
    owner_oid: int
    owner: str
    rls_enabled: bool
    rls_forced: bool
    is_partition: bool
    parent_oid: int | None
    tenant_attnum: int
    tenant_nullable: bool
    tenant_type: str
    policies: list[dict] = field(default_factory=list)
    access: dict[str, dict] = field(default_factory=dict)  # role -> privileges and ownership
    unique_keys: list[dict] = field(default_factory=list)
    foreign_keys: list[dict] = field(default_factory=list)

    @property
    def qualified(self) -> str:
        return f"{self.schema_name}.{self.name}"

    @property
    def kind(self) -> str:
        if self.relkind == "p":
            return "partitioned table"
        return "partition" if self.is_partition else "table"


@dataclass
class Catalog:
    """Everything the audit (and the probe) reads from the catalog, in one snapshot."""

    server_version: int
    tables: dict[int, TenantTable]  # multi-tenant tables, exemptions left out
    exempt: list[str]
    unknown_exemptions: list[str]
    roles: list[dict]
    views: list[dict]
    functions: list[dict]
    role_facts: dict[int, dict]


def normalise_name(name: str) -> str:
    """`schema.table` as the catalog spells it: quotes removed, `public.` added when unqualified."""
    names = [quoted.replace('""', '"') if quoted else bare.strip().lower()
             for quoted, bare in re.findall(r'"((?:[^"]|"")*)"|([^."]+)', name)]
    names = [n for n in names if n]
    if len(names) == 1:
        names.insert(0, "public")
    return ".".join(names[-2:])


def read_catalog(conn: psycopg.Connection, *, tenant_column: str, app_roles: Sequence[str],
                 exempt_tables: Iterable[str] = ()) -> Catalog:
    """The catalog facts the audit and the probe need. Call inside a snapshot (see `read_only_snapshot`)."""
    roles = list(app_roles)
    conn.execute("SELECT set_config('search_path', 'pg_catalog', true)")
    rows = CatalogReader(conn).rows
    version = int(conn.execute("SHOW server_version_num").fetchone()[0])
    relation_names = {f"{r['schema_name']}.{r['name']}" for r in rows(q.RLS_RELATION_NAMES_SQL)}
    wanted = list(dict.fromkeys(normalise_name(n) for n in exempt_tables))
    exempt = [n for n in wanted if n in relation_names]
    unknown = [n for n in wanted if n not in relation_names]
    all_tables = [TenantTable(**r) for r in rows(q.RLS_TENANT_TABLES_SQL, column=tenant_column)]
    tables = {t.oid: t for t in all_tables if t.qualified not in exempt}
    oids = list(tables)
    for r in rows(q.RLS_ACCESS_SQL, oids=oids, roles=roles):
        tables[r.pop("relid")].access[r.pop("role")] = r
    for r in rows(q.RLS_POLICIES_SQL, oids=oids, roles=roles):
        tables[r.pop("relid")].policies.append(r)
    for r in rows(q.RLS_UNIQUE_KEYS_SQL, oids=oids):
        tables[r.pop("relid")].unique_keys.append(r)
    for r in rows(q.RLS_FOREIGN_KEYS_SQL, oids=oids):
        tables[r.pop("relid")].foreign_keys.append(r)
    views = [v for v in rows(q.RLS_VIEWS_SQL, roles=roles, column=tenant_column)
             if f"{v['schema_name']}.{v['name']}" not in exempt]
    functions = rows(q.RLS_FUNCTIONS_SQL, roles=roles)
    owners = {t.owner_oid for t in tables.values()}
    subjects = {v["owner_oid"] for v in views} | {f["owner_oid"] for f in functions if f["security_definer"]}
    role_facts = {r["oid"]: r for r in rows(q.RLS_ROLE_FACTS_SQL, owners=list(owners), roles=list(subjects))}
    return Catalog(version, tables, exempt, unknown, rows(q.RLS_ROLES_SQL, roles=roles), views, functions, role_facts)


def view_closure(catalog: Catalog) -> dict[int, set[int]]:
    """view oid -> multi-tenant tables it reads, directly or through other views."""
    views = {v["oid"]: v for v in catalog.views}
    memo: dict[int, set[int]] = {}

    def reach(oid: int, seen: frozenset) -> set[int]:
        if oid in memo:
            return memo[oid]
        found: set[int] = set()
        for dep in views[oid]["reads"]:
            if dep in catalog.tables:
                found.add(dep)
            elif dep in views and dep not in seen:
                found |= reach(dep, seen | {dep})
        memo[oid] = found
        return found

    return {oid: reach(oid, frozenset({oid})) for oid in views}


def exemption_findings(catalog: Catalog) -> Iterator[Finding]:
    """One info finding per exemption, a warning per exempt_tables entry that matches nothing."""
    for name in catalog.exempt:
        yield finding("rls-exempt", table_path(name),
                      f"{name} is exempt from the RLS checks and the isolation probe by "
                      "[tool.migguard.rls] exempt_tables; nothing about its tenant isolation is verified.",
                      "Keep the reason for the exemption in a comment beside the entry, and remove it when "
                      "the table gets the tenant column and its policies.")
    for name in catalog.unknown_exemptions:
        yield finding("rls-exempt-unknown", table_path(name),
                      f"exempt_tables names {name}, but no table or view of that name exists.",
                      "Fix the spelling (schema.table) or remove the entry.")


# --- policy expressions ------------------------------------------------------------------------------

_SETTING_CALL = r"current_setting\s*\(\s*'{setting}'"


def parse_expression(text: str | None) -> ast.Node | None:
    """A (deparsed) SQL boolean expression as pglast's tree; None when absent or unparsable."""
    if not text:
        return None
    try:
        statements = parse_sql(f"SELECT {text}")
    except Exception:  # pglast raises ParseError, and RecursionError on pathological input
        return None
    select = statements[0].stmt if statements else None
    if not isinstance(select, ast.SelectStmt) or not select.targetList or len(select.targetList) != 1:
        return None
    return select.targetList[0].val


def _children(node: object) -> Iterator[object]:
    if isinstance(node, tuple):
        yield from node
    elif isinstance(node, ast.Node):
        for attribute in node:
            value = getattr(node, attribute)
            if isinstance(value, ast.Node | tuple):
                yield value


def walk(node: object, *, into_sublinks: bool = True) -> Iterator[ast.Node]:
    """Every node under `node` (itself included)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, tuple):
            stack.extend(current)
            continue
        if not isinstance(current, ast.Node):
            continue
        yield current
        if isinstance(current, ast.SubLink) and not into_sublinks:
            continue
        stack.extend(_children(current))


def _text(node: ast.Node) -> str:
    try:
        return RawStream()(node)
    except Exception:  # pglast cannot print every node it parses
        return repr(node)


def _names(fields: tuple) -> list[str]:
    return [f.sval for f in fields or () if isinstance(f, ast.String)]


def _constant(node: ast.Node) -> tuple[bool, object] | None:
    """(True, value) for a literal (casts stripped), else None."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_Const):
        if node.isnull:
            return True, None
        value = node.val
        for attribute in ("boolval", "ival", "fval", "sval", "bsval"):
            if hasattr(value, attribute):
                return True, str(getattr(value, attribute))
    return None


def _is_boolean_type(type_name: ast.TypeName | None) -> bool:
    return bool(type_name) and _names(type_name.names)[-1:] in (["bool"], ["boolean"])


_TRUE_TEXTS = {"t", "tr", "tru", "true", "y", "ye", "yes", "on", "1"}
_FALSE_TEXTS = {"f", "fa", "fal", "fals", "false", "n", "no", "of", "off", "0"}


def _truth(node: ast.Node, reasons: set[str]) -> bool | None:
    """The value of a boolean expression when it is the same for every row, else None."""
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Boolean):
        return bool(node.val.boolval)
    if isinstance(node, ast.TypeCast) and _is_boolean_type(node.typeName):
        literal = _constant(node.arg)
        if literal and isinstance(literal[1], str):
            text = literal[1].strip().lower()
            return True if text in _TRUE_TEXTS else False if text in _FALSE_TEXTS else None
        return _truth(node.arg, reasons)
    if isinstance(node, ast.BoolExpr):
        values = [_truth(arg, reasons) for arg in node.args]
        if node.boolop == enums.BoolExprType.AND_EXPR:
            return False if False in values else True if all(v is True for v in values) else None
        if node.boolop == enums.BoolExprType.OR_EXPR:
            return True if True in values else False if all(v is False for v in values) else None
        return None if values[0] is None else not values[0]
    if isinstance(node, ast.NullTest):
        literal = _constant(node.arg)
        if literal:
            is_null = literal[1] is None
            return is_null if node.nulltesttype == enums.NullTestType.IS_NULL else not is_null
        return None
    if isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP and node.lexpr and node.rexpr:
        operator = _names(node.name)[-1:]
        if operator not in (["="], ["<>"], ["!="]):
            return None
        left, right = _constant(node.lexpr), _constant(node.rexpr)
        if left and right:
            if left[1] is None or right[1] is None:
                return None
            equal = left[1] == right[1]
            return equal if operator == ["="] else not equal
        volatile = any(isinstance(n, ast.FuncCall | ast.SubLink) for n in walk((node.lexpr, node.rexpr)))
        if not volatile and _text(node.lexpr) == _text(node.rexpr):
            reasons.add("self-comparison")
            return operator == ["="]
    return None


def always_true(text: str | None) -> str | None:
    """Why a deparsed policy expression is true for every row: "constant", "self-comparison", or None."""
    tree = parse_expression(text)
    if tree is None:
        return None
    reasons: set[str] = set()
    if _truth(tree, reasons) is True:
        return "self-comparison" if reasons else "constant"
    return None


@dataclass(frozen=True)
class TenantKey:
    """How a policy expression relates to the tenant: what it reads, and whether it restricts to it."""

    column: bool  # reads the tenant column
    setting: bool  # reads the tenant setting
    restricts: bool  # cannot be true unless the tenant column matches the setting
    constant: str | None  # "constant" | "self-comparison" when always true
    has_or: bool = False  # an OR at the top of the boolean formula (outside sub-selects)
    parsed: bool = True


class ExpressionAnalyser:
    """Analyses deparsed policy expressions of one database against the tenant column and setting.

    `setting_functions` are the (lower-case, unqualified and qualified) names of functions whose
    body reads the tenant setting, directly or through another such function."""

    def __init__(self, tenant_column: str, tenant_setting: str, functions: Iterable[dict] = ()) -> None:
        self.column = tenant_column
        self.setting = tenant_setting
        self.setting_functions = _setting_functions(functions, tenant_setting)

    def analyse(self, text: str | None, table_name: str) -> TenantKey:
        tree = parse_expression(text)
        if tree is None:
            reads_column = bool(text) and bool(re.search(rf"(?<![\w$]){re.escape(self.column)}(?![\w$])", text or ""))
            reads_setting = bool(text) and bool(re.search(_SETTING_CALL.format(setting=re.escape(self.setting)),
                                                          text or "", re.IGNORECASE))
            return TenantKey(reads_column, reads_setting, False, None, parsed=False)
        reasons: set[str] = set()
        constant = ("self-comparison" if reasons else "constant") if _truth(tree, reasons) is True else None
        has_or = any(isinstance(n, ast.BoolExpr) and n.boolop == enums.BoolExprType.OR_EXPR
                     for n in walk(tree, into_sublinks=False))
        return TenantKey(self._reads_column(tree, table_name), self._reads_setting(tree),
                         self._restricts(tree, table_name), constant, has_or)

    def _reads_column(self, node: ast.Node, table_name: str) -> bool:
        for n in walk(node, into_sublinks=False):
            if isinstance(n, ast.ColumnRef):
                names = _names(n.fields)
                if names and names[-1] == self.column and (len(names) == 1 or names[-2] == table_name):
                    return True
            if isinstance(n, ast.SubLink):  # `x IN (SELECT …)`: x as usual; inside, correlated references
                if n.testexpr is not None and self._reads_column(n.testexpr, table_name):
                    return True
                for inner in walk(n.subselect):
                    if isinstance(inner, ast.ColumnRef) and _names(inner.fields)[-2:] == [table_name, self.column]:
                        return True
        return False

    def _reads_setting(self, node: ast.Node) -> bool:
        for n in walk(node):
            if not isinstance(n, ast.FuncCall):
                continue
            names = [name.lower() for name in _names(n.funcname)]
            if names[-1:] == ["current_setting"] and n.args:
                literal = _constant(n.args[0])
                if literal and literal[1] == self.setting:
                    return True
            if ".".join(names) in self.setting_functions:
                return True
        return False

    def _restricts(self, node: ast.Node, table_name: str) -> bool:
        if isinstance(node, ast.BoolExpr):
            if node.boolop == enums.BoolExprType.AND_EXPR:
                return any(self._restricts(arg, table_name) for arg in node.args)
            if node.boolop == enums.BoolExprType.OR_EXPR:
                return all(self._restricts(arg, table_name) for arg in node.args)
            return False
        if isinstance(node, ast.A_Expr):
            if node.kind == enums.A_Expr_Kind.AEXPR_OP and _names(node.name)[-1:] != ["="]:
                return False
            if node.kind in (enums.A_Expr_Kind.AEXPR_DISTINCT, enums.A_Expr_Kind.AEXPR_LIKE,
                             enums.A_Expr_Kind.AEXPR_ILIKE, enums.A_Expr_Kind.AEXPR_SIMILAR,
                             enums.A_Expr_Kind.AEXPR_BETWEEN, enums.A_Expr_Kind.AEXPR_NOT_BETWEEN):
                return False
            if node.kind == enums.A_Expr_Kind.AEXPR_IN and _names(node.name)[-1:] == ["<>"]:
                return False  # NOT IN
        if isinstance(node, ast.NullTest | ast.BooleanTest):
            return False
        return self._reads_column(node, table_name) and self._reads_setting(node)


def _setting_functions(functions: Iterable[dict], setting: str) -> set[str]:
    """Names (`name` and `schema.name`, lower case) of functions that read the setting, transitively."""
    direct = re.compile(_SETTING_CALL.format(setting=re.escape(setting)), re.IGNORECASE)
    functions = [f for f in functions if f.get("body")]
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        calls = re.compile(r"(?<![\w$])(" + "|".join(re.escape(n.split(".")[-1]) for n in found) + r")\s*\(",
                           re.IGNORECASE) if found else None
        for f in functions:
            keys = {f["name"].lower(), f"{f['schema_name']}.{f['name']}".lower()}
            if keys <= found:
                continue
            if direct.search(f["body"]) or (calls and calls.search(f["body"])):
                found |= keys
                changed = True
    return found


# --- audit -----------------------------------------------------------------------------------------


def audit(conn_or_url: str | psycopg.Connection, *, tenant_column: str = "tenant_id",
          tenant_setting: str = "app.tenant_id", app_roles: Sequence[str] = ("app_user",),
          exempt_tables: Iterable[str] = ()) -> RlsResult:
    """Catalog audit of a database (a URL or an open connection; read only, one snapshot).

    A database failure raises DatabaseError (one redacted line)."""
    from migguard.pg.connect import connect, describe

    arguments = (tenant_column, tenant_setting, tuple(app_roles), tuple(exempt_tables))
    try:
        if isinstance(conn_or_url, psycopg.Connection):
            return _audit(conn_or_url, *arguments)
        with connect(conn_or_url) as conn:
            return _audit(conn, *arguments)
    except psycopg.Error as error:
        raise DatabaseError(f"the RLS audit failed: {describe(error)}") from None


def _audit(conn: psycopg.Connection, column: str, setting: str, roles: tuple[str, ...],
           exempt: tuple[str, ...]) -> RlsResult:
    started = time.perf_counter()
    with read_only_snapshot(conn, "migguard_rls"):
        catalog = read_catalog(conn, tenant_column=column, app_roles=roles, exempt_tables=exempt)
    read = time.perf_counter()
    auditor = _Auditor(catalog, column, setting, roles)
    findings = sorted(auditor.run(), key=lambda f: (*f.sort_key, f.message))
    done = time.perf_counter()
    return RlsResult(findings=tuple(findings), tables=tuple(sorted(t.qualified for t in catalog.tables.values())),
                     exempt=tuple(catalog.exempt), roles=roles,
                     timings={"catalog": round(read - started, 4), "checks": round(done - read, 4),
                              "total": round(done - started, 4)})


def _roles_text(roles: Iterable[str]) -> str:
    roles = list(roles)
    return ", ".join(roles) if roles else "no application role"


class _Auditor:
    def __init__(self, catalog: Catalog, column: str, setting: str, roles: tuple[str, ...]) -> None:
        self.catalog = catalog
        self.column = column
        self.setting = setting
        self.roles = roles
        self.analyser = ExpressionAnalyser(column, setting, catalog.functions)
        self.existing_roles = {r["name"]: r for r in catalog.roles if r["oid"] is not None}
        self.superusers = {name for name, r in self.existing_roles.items() if r["superuser"]}

    def run(self) -> Iterator[Finding]:
        yield from exemption_findings(self.catalog)
        yield from self._roles()
        if not self.catalog.tables:
            yield finding("rls-no-tenant-tables", "db:",
                          f"No table (outside exempt_tables) has the tenant column {self.column}, so there is "
                          "nothing to isolate; if the tenant column has another name, set tenant_column.")
        for table in self.catalog.tables.values():
            yield from self._table(table)
            yield from self._policies(table)
            yield from self._keys(table)
            yield from self._table_roles(table)
        yield from self._views()
        yield from self._functions()

    # --- exemptions and roles

    def _roles(self) -> Iterator[Finding]:
        for role in self.catalog.roles:
            name, path = role["name"], f"db:role:{role['name']}"
            if role["oid"] is None:
                yield finding("rls-app-role-missing", path,
                              f"Application role {name} (app_roles) does not exist in this database, so its "
                              "privileges and membership cannot be checked.",
                              "Create the role in the migrations (or fix app_roles).")
                continue
            if role["superuser"] or role["superuser_via"]:  # subsumes BYPASSRLS (superusers get it too)
                how = "is a superuser" if role["superuser"] else \
                    f"can SET ROLE to superuser {', '.join(role['superuser_via'])}"
                yield finding("rls-app-role-superuser", path,
                              f"Application role {name} {how}: superusers bypass row level security even when it "
                              "is forced, so a session of this role reads and changes every tenant's rows.",
                              f"Connect the application as a role without SUPERUSER that is not a member of a "
                              f"superuser (ALTER ROLE {name} NOSUPERUSER).")
            elif role["bypassrls"] or role["bypassrls_via"]:
                how = "has BYPASSRLS" if role["bypassrls"] else \
                    f"can SET ROLE to {', '.join(role['bypassrls_via'])}, which has BYPASSRLS"
                yield finding("rls-app-role-bypassrls", path,
                              f"Application role {name} {how}: row level security is not applied to it, so a "
                              "session of this role reads and changes every tenant's rows.",
                              f"ALTER ROLE {name} NOBYPASSRLS (and revoke membership in roles that bypass RLS).")

    # --- one table

    def _privileged(self, table: TenantTable, *privileges: str) -> list[str]:
        return [role for role, access in table.access.items() if any(access[p] for p in privileges)]

    def _table(self, table: TenantTable) -> Iterator[Finding]:
        path = table_path(table.qualified)
        readers = self._privileged(table, "select", "insert", "update", "delete")
        who = _roles_text(readers)
        if not table.rls_enabled:
            if table.is_partition:
                parent = self.catalog.tables.get(table.parent_oid)
                message = (f"Partition {table.qualified} has row level security disabled. Policies of its parent "
                           f"{parent.qualified if parent else 'table'} apply only to queries through the parent: "
                           f"a session that queries the partition directly ({who}) reads and changes every "
                           "tenant's rows in it.")
            else:
                kind = table.kind[0].upper() + table.kind[1:]
                message = (f"{kind} {table.qualified} has row level security disabled: "
                           f"sessions of {who} read, change and delete every tenant's rows.")
            yield finding("require-rls-enabled", path, message,
                          f"ALTER TABLE {table.qualified} ENABLE ROW LEVEL SECURITY; ALTER TABLE "
                          f"{table.qualified} FORCE ROW LEVEL SECURITY; and give it a tenant policy.")
        elif not table.rls_forced:
            owners = [r for r, a in table.access.items() if a["owner"] or a["member_of_owner"]]
            live = (f" {_roles_text(owners)} act{'s' if len(owners) == 1 else ''} as the owner, so for "
                    f"{'it' if len(owners) == 1 else 'them'} the policies do not apply at all.") if owners else ""
            yield finding("require-rls-forced", path,
                          f"Row level security on {table.qualified} is not forced: its owner {table.owner} (and "
                          f"every member of it) bypasses the policies, so any job or migration running as the "
                          f"owner sees and changes every tenant's rows.{live}",
                          f"ALTER TABLE {table.qualified} FORCE ROW LEVEL SECURITY;")
        if table.tenant_nullable:
            yield finding("ban-nullable-tenant-column", path,
                          f"{table.qualified}.{self.column} is nullable: a row with no tenant belongs to nobody; "
                          f"`{self.column} = current_setting(...)` policies hide it from its writer, and policies "
                          "written to show NULL-tenant rows as shared expose them to every tenant.",
                          f"Backfill the NULLs, then ALTER TABLE {table.qualified} ALTER COLUMN {self.column} "
                          "SET NOT NULL (via a validated CHECK on a large table).")

    # --- policies

    def _policies(self, table: TenantTable) -> Iterator[Finding]:
        path = table_path(table.qualified)
        relevant = [p for p in table.policies if p["applies_to"] or "public" in p["roles"]]
        if not relevant:
            others = ", ".join(p["name"] for p in table.policies)
            extra = f" (its policies {others} apply to none of the application roles)" if others else ""
            effect = ("so every statement of the application roles on it is refused, and the usual quick fix is "
                      "an always-true policy") if table.rls_enabled else "so nothing ties its rows to a tenant"
            yield finding("require-tenant-policy", path,
                          f"{table.qualified} has no policy for {_roles_text(self.roles)}{extra}, {effect}.",
                          f"CREATE POLICY tenant_isolation ON {table.qualified} USING ({self._condition(table)}) "
                          f"WITH CHECK ({self._condition(table)});")
            return
        keys = {(p["name"], clause): self.analyser.analyse(p[clause], table.name)
                for p in relevant for clause in ("using", "with_check")}
        guarded = self._restrictive_guards(relevant, keys)
        good_permissive: dict[str, set[str]] = defaultdict(set)  # command -> permissive policies keyed on it
        for p in relevant:
            if p["permissive"]:
                for command in self._commands(p):
                    if self._restricting(p, command, keys):
                        good_permissive[command].add(p["name"])
        for p in relevant:
            if not p["permissive"]:
                continue
            yield from self._policy(table, p, keys, guarded, good_permissive, path)
        if table.rls_enabled:
            yield from self._coverage(table, relevant, path)

    def _condition(self, table: TenantTable) -> str:
        cast = "" if table.tenant_type in ("text", "character varying") else f"::{table.tenant_type}"
        return f"{self.column} = current_setting('{self.setting}'){cast}"

    @staticmethod
    def _commands(policy: dict) -> tuple[str, ...]:
        command = _POLCMD[policy["command"]]
        return COMMANDS if command == "all" else (command,)

    @staticmethod
    def _clause_for(policy: dict, command: str) -> str | None:
        """The clause PostgreSQL checks for a command: new rows for insert/update (WITH CHECK, else
        USING), visible rows otherwise (USING). An INSERT policy has no USING."""
        if command in ("insert", "update"):
            return "with_check" if policy["with_check"] else ("using" if policy["using"] else None)
        return "using" if policy["using"] else None

    @staticmethod
    def _restricting(policy: dict, command: str, keys: dict) -> bool:
        """Is `policy`, for `command`, keyed on the tenant in every clause PostgreSQL applies?"""
        clause = _Auditor._clause_for(policy, command)
        if clause is None or not keys[(policy["name"], clause)].restricts:
            return False
        return command != "update" or keys[(policy["name"], "using")].restricts

    def _restrictive_guards(self, policies: list[dict], keys: dict) -> dict[str, set[str]]:
        """command -> application roles for which a restrictive policy keyed on the tenant guards it."""
        guarded: dict[str, set[str]] = defaultdict(set)
        for p in policies:
            if p["permissive"]:
                continue
            applies = set(p["applies_to"]) if "public" not in p["roles"] else set(self.roles)
            for command in self._commands(p):
                if self._restricting(p, command, keys):
                    guarded[command] |= applies
        return guarded

    def _policy(self, table: TenantTable, policy: dict, keys: dict, guarded: dict[str, set[str]],
                good_permissive: dict[str, set[str]], path: str) -> Iterator[Finding]:
        name, command = policy["name"], _POLCMD[policy["command"]]
        applies = set(policy["applies_to"]) if "public" not in policy["roles"] else set(self.roles)
        who = _roles_text(sorted(applies)) if applies else "every role"
        commands = [c for c in self._commands(policy) if not applies or not applies <= guarded[c]]
        if not commands:
            return  # a restrictive tenant policy narrows every command this policy opens
        label = f"Policy {name} on {table.qualified} (FOR {command.upper()}, TO {', '.join(policy['roles'])})"
        if command == "insert" and not policy["with_check"]:
            yield finding("require-policy-with-check", path,
                          f"{label} has no WITH CHECK; USING does not apply to INSERT, so the policy allows no row "
                          "and inserts rely on other policies, which invites an always-true fix.",
                          f"ALTER POLICY {name} ON {table.qualified} WITH CHECK ({self._condition(table)});")
        if command != "insert" and not policy["using"]:
            yield finding("require-policy-using", path,
                          f"{label} has no USING, so it matches no existing row for SELECT, UPDATE or DELETE.",
                          f"ALTER POLICY {name} ON {table.qualified} USING ({self._condition(table)});")
        # (label, catalog key, what a session can do through the clause)
        clauses = []
        if policy["using"] and any(c in commands for c in ("select", "update", "delete")):
            verb = {"select": "read", "update": "update", "delete": "delete"}.get(command, "read, update and delete")
            clauses.append(("USING", "using", verb))
        if policy["with_check"] and any(c in commands for c in ("insert", "update")):
            verb = {"insert": "insert", "update": "write"}.get(command, "insert and update")
            clauses.append(("WITH CHECK", "with_check", verb))
        elif policy["using"] and command == "all" and "insert" in commands:
            clauses.append(("USING (as WITH CHECK)", "using", "insert and update"))
        constant, widened, unkeyed = [], [], []
        for clause in clauses:
            key = keys[(name, clause[1])]
            beside = sorted(set().union(*(good_permissive[c] for c in commands)) - {name})
            if key.constant:
                constant.append((clause, key))
            elif key.restricts:
                continue
            elif (key.column and key.setting and key.has_or) or beside:
                widened.append((clause, beside))
            else:
                unkeyed.append((clause, key))
        if constant:
            parts = " and ".join(dict.fromkeys(c[1].replace("_", " ").upper() for c, _ in constant))
            why = " (it compares a value with itself)" if any(k.constant == "self-comparison"
                                                                for _, k in constant) else ""
            harm = " and ".join(f"{c[2]} every tenant's rows" if c[0] == "USING" else f"{c[2]} rows for any tenant"
                                for c, _ in constant)
            yield finding("ban-constant-true-policy", path,
                          f"{label} has an always-true {parts}{why}: {who}, whatever tenant a session acts for, "
                          f"can {harm}; permissive policies are ORed, so it cancels the tenant policies beside it.",
                          f"Compare the tenant column with the tenant setting instead: ({self._condition(table)}).")
        for (clause, catalog_key, verb), beside in widened:
            text = self._expression(policy, catalog_key)
            if beside:
                reason = (f"is permissive and its {clause} ({text}) is not keyed on the tenant, so it is ORed with "
                          f"{', '.join(beside)} and widens access beyond the session's tenant")
            else:
                reason = (f"ORs the tenant condition in its {clause} ({text}) with another condition, so rows of "
                          "other tenants pass whenever the other branch is true")
            yield finding("rls-permissive-or-widening", path,
                          f"{label} {reason}: {who} can {verb} other tenants' rows that match it.",
                          "Make the extra condition a separate AS RESTRICTIVE policy, or AND it with the tenant "
                          f"condition ({self._condition(table)}).")
        if unkeyed:
            reasons = []
            for (clause, catalog_key, _), key in unkeyed:
                missing = []
                if not key.column:
                    missing.append(f"does not read the tenant column {self.column}")
                if not key.setting:
                    missing.append(f"does not read the tenant setting current_setting('{self.setting}')")
                if not missing:
                    missing.append(f"does not require {self.column} to equal the tenant setting")
                reasons.append(f"its {clause} ({self._expression(policy, catalog_key)}) {' and '.join(missing)}")
            verbs = " and ".join(dict.fromkeys(verb for (_, _, verb), _ in unkeyed))
            yield finding("rls-policy-not-tenant-keyed", path,
                          f"{label}: {'; '.join(reasons)}. It does not confine {who} to the session's tenant: they "
                          f"can {verbs} rows of any tenant that satisfy it.",
                          f"Key it on the tenant: ({self._condition(table)}).")

    @staticmethod
    def _expression(policy: dict, clause: str) -> str:
        text = policy[clause] or ""
        return text if len(text) <= 120 else text[:117] + "..."

    def _coverage(self, table: TenantTable, policies: list[dict], path: str) -> Iterator[Finding]:
        for role, access in table.access.items():
            if role in self.superusers:
                continue
            for command in COMMANDS:
                if not access[command]:
                    continue
                covering = [p for p in policies if p["permissive"] and command in self._commands(p)
                            and (role in p["applies_to"] or "public" in p["roles"])]
                if not covering:
                    yield finding("rls-policy-command-uncovered", path,
                                  f"{role} has {command.upper()} on {table.qualified} but no permissive policy "
                                  f"covers {command.upper()} for it, so every such statement is refused "
                                  "(or silently affects no row).",
                                  f"CREATE POLICY tenant_{command} ON {table.qualified} FOR {command.upper()} "
                                  + (f"WITH CHECK ({self._condition(table)})" if command == "insert" else
                                     f"USING ({self._condition(table)})") + f"; or REVOKE {command.upper()}.")

    # --- keys

    def _keys(self, table: TenantTable) -> Iterator[Finding]:
        path = table_path(table.qualified)
        for key in table.unique_keys:
            if table.tenant_attnum in key["attnums"]:
                continue
            what = ("primary key" if key["primary"] else "unique constraint" if key["constraint_name"]
                    else "unique index")
            name = key["constraint_name"] or key["name"]
            columns = ", ".join(key["columns"])
            partial = f" WHERE {key['predicate']}" if key["predicate"] else ""
            surrogate = key["surrogate"]
            yield finding("rls-unique-key-without-tenant", path,
                          f"The {what} {name} on {table.qualified} ({columns}){partial} does not include "
                          f"{self.column}: it is enforced across tenants, so a tenant whose insert or update fails "
                          "with a unique violation learns that another tenant holds that value"
                          + (" (its columns are generated surrogates, so the oracle only tells that an id is taken)"
                             if surrogate else "") + ".",
                          f"Put the tenant column first in the key: ({self.column}, {columns}).",
                          severity=Severity.INFO if surrogate else None)
        for fk in table.foreign_keys:
            parent = self.catalog.tables.get(fk["refrelid"])
            if parent is None:
                continue
            pairs = list(zip(fk["attnums"], fk["ref_attnums"], strict=False))
            if (table.tenant_attnum, parent.tenant_attnum) in pairs:
                continue
            yield finding("rls-foreign-key-without-tenant", path,
                          f"Foreign key {fk['name']} of {table.qualified} ({', '.join(fk['columns'])}) references "
                          f"{parent.qualified} ({', '.join(fk['ref_columns'])}) without {self.column}: referential "
                          "checks bypass RLS, so a tenant can create rows pointing at another tenant's rows and "
                          "learn from the check which of them exist; cascades then cross tenants too.",
                          f"Reference a unique key that includes the tenant: FOREIGN KEY ({self.column}, "
                          f"{', '.join(fk['columns'])}) REFERENCES {parent.qualified} ({self.column}, "
                          f"{', '.join(fk['ref_columns'])}).")

    def _table_roles(self, table: TenantTable) -> Iterator[Finding]:
        path = table_path(table.qualified)
        for role, access in table.access.items():
            if role in self.superusers:
                continue  # reported once for the role
            if access["owner"]:
                forced = ("RLS is forced, but as the owner it can TRUNCATE the table, ALTER it to NO FORCE or "
                          "DISABLE ROW LEVEL SECURITY, and DROP its policies") if table.rls_forced else \
                    "RLS is not forced, so the policies do not apply to it at all"
                yield finding("rls-app-role-owner", path,
                              f"Application role {role} owns {table.qualified}: {forced}; every tenant's rows are "
                              "within its reach.",
                              f"ALTER TABLE {table.qualified} OWNER TO a migration role the application does not "
                              "use.")
            elif access["member_of_owner"]:
                forced = ("RLS is forced, but through the owner's privileges it can TRUNCATE the table, disable "
                          "RLS and drop policies") if table.rls_forced else \
                    "it counts as the owner, and RLS is not forced, so the policies do not apply to it"
                yield finding("rls-app-role-member-of-owner", path,
                              f"Application role {role} is a member of {table.owner}, which owns "
                              f"{table.qualified}: {forced}; every tenant's rows are within its reach.",
                              f"REVOKE {table.owner} FROM {role};")
            if access["truncate"] and not access["owner"] and not access["member_of_owner"]:
                yield finding("rls-truncate-granted", path,
                              f"Application role {role} may TRUNCATE {table.qualified}; row level security does "
                              "not apply to TRUNCATE, so one tenant's session can wipe every tenant's rows.",
                              f"REVOKE TRUNCATE ON {table.qualified} FROM {role}; (and from PUBLIC).")

    # --- views and functions

    def _bypasses(self, role_oid: int, table: TenantTable) -> bool:
        """Does `role_oid` read `table` past its policies?"""
        facts = self.catalog.role_facts.get(role_oid)
        if facts is None:
            return True
        if facts["superuser"] or facts["bypassrls"] or not table.rls_enabled:
            return True
        return not table.rls_forced and table.owner_oid in facts["privileges_of"]

    def _views(self) -> Iterator[Finding]:
        closure = view_closure(self.catalog)
        for view in self.catalog.views:
            tables = [self.catalog.tables[o] for o in sorted(closure[view["oid"]])]
            if not tables:
                continue
            name = f"{view['schema_name']}.{view['name']}"
            names = ", ".join(t.qualified for t in tables)
            readers = view["readable_by"]
            if view["relkind"] == "m":
                yield finding("require-security-invoker-view", table_path(name),
                              f"Materialized view {name} stores rows of {names} with no row level security of its "
                              "own: " + (f"{_roles_text(readers)} can read every tenant's copied rows from it."
                                         if readers else "any role granted SELECT on it reads every tenant's rows."),
                              "Do not materialize tenant data for application roles; use a security_invoker view, "
                              "or revoke SELECT on the materialized view from them.",
                              severity=None if readers else Severity.WARNING)
                continue
            if view["security_invoker"]:
                continue
            leaking = [t.qualified for t in tables if self._bypasses(view["owner_oid"], t)]
            option = ("WITH (security_invoker = true)" if self.catalog.server_version >= 150000 else
                      "security_invoker (PostgreSQL 15+; on older servers a security-barrier function)")
            detail = (f"its owner {view['owner']} bypasses the policies of {', '.join(leaking)}, so "
                      + (f"{_roles_text(readers)} can read every tenant's rows through it" if readers
                         else "any role granted SELECT on it reads every tenant's rows")
                      if leaking else
                      f"the policies are checked as its owner {view['owner']} instead of the caller, so policies "
                      "for the caller's role do not apply")
            yield finding("require-security-invoker-view", table_path(name),
                          f"View {name} over {names} is not security_invoker: {detail}.",
                          f"ALTER VIEW {name} SET (security_invoker = true); ({option})",
                          severity=None if leaking and readers else Severity.WARNING)

    def _functions(self) -> Iterator[Finding]:
        closure = view_closure(self.catalog)
        patterns = {oid: re.compile(
            rf"(?:from|join|into|update|table|only)\s+(?:\"?{re.escape(t.schema_name)}\"?\s*\.\s*)?"
            rf"\"?{re.escape(t.name)}\"?(?![\w$\"])", re.IGNORECASE) for oid, t in self.catalog.tables.items()}
        view_patterns = {v["oid"]: re.compile(
            rf"(?:from|join)\s+(?:\"?{re.escape(v['schema_name'])}\"?\s*\.\s*)?\"?{re.escape(v['name'])}\"?"
            rf"(?![\w$\"])", re.IGNORECASE) for v in self.catalog.views if closure.get(v["oid"])}
        for function in self.catalog.functions:
            if not function["security_definer"]:
                continue
            reads = {o for o in function["reads"] if o in self.catalog.tables}
            for o in function["reads"]:
                reads |= closure.get(o, set())
            body = function["body"] or ""
            reads |= {oid for oid, pattern in patterns.items() if pattern.search(body)}
            for oid, pattern in view_patterns.items():
                if pattern.search(body):
                    reads |= closure[oid]
            if not reads:
                continue
            tables = [self.catalog.tables[o] for o in sorted(reads)]
            leaking = [t.qualified for t in tables if self._bypasses(function["owner_oid"], t)]
            callers = [] if function["trigger"] else function["executable_by"]  # triggers are not called
            signature = function["signature"]
            severity = Severity.ERROR if leaking and callers else Severity.WARNING
            effect = (f"it runs as {function['owner']}, who bypasses the policies of {', '.join(leaking)}, and "
                      f"{_roles_text(callers)} may call it: a tenant's session reaches every tenant's rows "
                      "through it" if leaking and callers else
                      f"it runs as {function['owner']} instead of the caller"
                      + ("" if leaking else ", who is subject to the policies")
                      + ("" if callers else "; it is a trigger function, so it runs on the writes of whoever "
                         "fires the trigger" if function["trigger"] else "; no application role may call it"))
            yield finding("ban-security-definer-function", f"db:function:{signature}",
                          f"SECURITY DEFINER function {signature} reads {', '.join(t.qualified for t in tables)}: "
                          f"{effect}.",
                          f"ALTER FUNCTION {signature} SECURITY INVOKER; (or filter by the tenant setting inside it, "
                          "and REVOKE EXECUTE FROM PUBLIC).",
                          severity=severity)

