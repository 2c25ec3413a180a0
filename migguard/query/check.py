"""Pure analysis of a `migguard query` statement: is it read-only, and does it filter on the tenant?

No I/O here. PostgreSQL's own grammar (pglast) parses the text, so comments, quoting and
dollar-quoting never fool the checks.

Read-only (first of two walls; the READ ONLY transaction in `query/command.py` is the second):
- exactly one statement, and it is a SELECT (WITH … SELECT, TABLE, VALUES, set operations),
  a SHOW, or an EXPLAIN without ANALYZE of such a SELECT;
- nowhere in it: a data-modifying statement (`WITH d AS (DELETE …)`), `SELECT … INTO`, a row
  locking clause (`FOR UPDATE/NO KEY UPDATE/SHARE/KEY SHARE`), or a call to a function that
  writes or changes server state (`nextval`, `setval`, `set_config`, `lo_*`, `dblink*`,
  `pg_terminate_backend`, `pg_cancel_backend`, advisory locks, …) or that runs SQL text this
  check cannot see (`query_to_xml`, `table_to_xml`, `ts_stat`, …).
A user-defined function that writes is not visible here; the READ ONLY transaction stops it.

Tenant filter (`Analysis.tenant_problems`, given what the catalog says about each table): every
reference to a multi-tenant relation (one with the tenant column) must be constrained to a tenant,
as `migguard.sql.tenant_scope` decides (the analysis `scan-app` shares: `=`, `IN`, `= ANY`, `IS NOT
DISTINCT FROM` a value, or equality with the tenant column of a constrained relation, in the WHERE
of its own SELECT or the ON of a join that restricts it). A view or materialized view that reads
tenant tables but has no tenant column cannot be filtered. With `--tenant`, an unfiltered relation
is accepted only when row-level security is really active on it for the connected role
(`row_security_active`; for a view: the view is `security_invoker` and RLS is active on every
tenant table it reads). EXPLAIN reads no rows and is exempt. Not seen: tenant rows read inside
functions (`SECURITY DEFINER` or not).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from pglast import ast, parse_sql
from pglast.parser import ParseError
from sqlglot import exp

from migguard.core.errors import GateRefused, InputError
from migguard.sql import tenant_scope

REFUSED = "query refused"

# Functions that write or change server state, by name (any schema), and why.
_WRITING_FUNCTIONS: Mapping[str, str] = {
    "nextval": "advances a sequence",
    "setval": "sets a sequence",
    "set_config": "changes a setting (it could lift the statement timeout or the tenant setting)",
    "pg_terminate_backend": "terminates another session",
    "pg_cancel_backend": "cancels another session's query",
    "pg_reload_conf": "reloads the server configuration",
    "pg_rotate_logfile": "rotates the server log",
    "pg_switch_wal": "switches the WAL file",
    "pg_promote": "promotes a standby",
    "pg_notify": "sends a notification",
    "pg_logical_emit_message": "writes a WAL message",
    "pg_import_system_collations": "creates collations",
    "pg_log_backend_memory_contexts": "writes to the server log",
    "lowrite": "writes a large object",
    "pg_read_file": "reads server files",
    "pg_read_binary_file": "reads server files",
    "pg_ls_dir": "lists server directories",
    "pg_stat_file": "reads server file metadata",
    "ts_stat": "runs SQL text that this check cannot see",
}
_WRITING_PREFIXES: tuple[tuple[str, str], ...] = (
    ("lo_", "works on large objects (lo_* functions create, write and delete them, and write server files)"),
    ("dblink", "runs SQL on another connection, outside the read-only transaction"),
    ("pg_advisory_", "takes an advisory lock"),
    ("pg_try_advisory_", "takes an advisory lock"),
    ("pg_stat_reset", "resets statistics"),
    ("pg_create_", "creates a replication slot or restore point"),
    ("pg_drop_replication_slot", "drops a replication slot"),
    ("pg_copy_", "copies a replication slot"),
    ("pg_logical_slot_", "consumes a replication slot"),
    ("pg_replication_origin_", "changes replication origins"),
    ("pg_replication_slot_advance", "advances a replication slot"),
    ("pg_wal_replay_", "pauses or resumes WAL replay"),
    ("pg_file_", "writes server files"),
    ("pg_backup_", "starts or stops a backup"),
    ("pg_start_backup", "starts a backup"),
    ("pg_stop_backup", "stops a backup"),
    ("query_to_xml", "runs SQL text that this check cannot see"),
    ("cursor_to_xml", "reads a cursor this check cannot see"),
    ("table_to_xml", "dumps a whole table, bypassing the tenant filter"),
    ("schema_to_xml", "dumps whole tables, bypassing the tenant filter"),
    ("database_to_xml", "dumps whole tables, bypassing the tenant filter"),
)

_STATEMENT_NAMES: Mapping[str, str] = {
    "InsertStmt": "an INSERT", "UpdateStmt": "an UPDATE", "DeleteStmt": "a DELETE", "MergeStmt": "a MERGE",
    "TruncateStmt": "a TRUNCATE", "CopyStmt": "a COPY", "DoStmt": "a DO block", "CallStmt": "a CALL",
    "VariableSetStmt": "a SET", "TransactionStmt": "a transaction control statement",
    "CreateTableAsStmt": "a CREATE TABLE AS", "CreateStmt": "a CREATE TABLE", "DropStmt": "a DROP",
    "AlterTableStmt": "an ALTER TABLE", "GrantStmt": "a GRANT", "LockStmt": "a LOCK", "VacuumStmt": "a VACUUM",
    "DeclareCursorStmt": "a DECLARE CURSOR", "ListenStmt": "a LISTEN", "NotifyStmt": "a NOTIFY",
    "RefreshMatViewStmt": "a REFRESH MATERIALIZED VIEW", "ExecuteStmt": "an EXECUTE", "PrepareStmt": "a PREPARE",
}
_WRITE_NODES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)
_LOCK_WORDS = {"LCS_FORKEYSHARE": "FOR KEY SHARE", "LCS_FORSHARE": "FOR SHARE",
               "LCS_FORNOKEYUPDATE": "FOR NO KEY UPDATE", "LCS_FORUPDATE": "FOR UPDATE"}
_TABLE_KINDS = ("r", "p")


@dataclass(frozen=True, slots=True)
class Relation:
    """What the catalog says about one referenced relation (see `pg.catalog.QUERY_RELATIONS_SQL`)."""

    name: str  # schema-qualified as PostgreSQL prints it
    kind: str  # pg_class.relkind
    has_tenant: bool  # has the tenant column
    rls_active: bool  # row_security_active() for the connected role (tables only)
    security_invoker: bool = False  # views
    tenant_bases: tuple[tuple[str, bool], ...] = ()  # views: tenant tables read, each with rls_active


@dataclass
class Analysis:
    """A statement that passed the read-only check, with what the tenant check needs."""

    kind: str  # select | show | explain
    tree: exp.Expression | None  # sqlglot's tree of a SELECT (None for SHOW and EXPLAIN)
    tenant_column: str
    param_values: Mapping[int, str] = field(default_factory=dict)  # $n → value, for the audit's tenant context
    filter_values: list[str] = field(default_factory=list)  # filled by tenant_problems

    @property
    def refs(self) -> list[str]:
        """Relations to look up in the catalog (none for EXPLAIN and SHOW: they read no rows)."""
        if self.kind != "select" or self.tree is None:
            return []
        return sorted({_ref(t) for t in tenant_scope.table_references(self.tree)})

    @property
    def cursor_ok(self) -> bool:
        """A SELECT can run as a server-side cursor, so `--limit` caps what is transferred."""
        return self.kind == "select"

    def tenant_problems(self, catalog: Mapping[str, Relation], tenant: str | None, role: str) -> list[str]:
        """Why the query may not run as it is: unfiltered tenant relations (empty list: it may)."""
        if self.kind != "select" or self.tree is None:
            return []
        column = self.tenant_column

        def is_tenant_table(table: exp.Table) -> bool:
            relation = catalog.get(_ref(table))
            return relation is not None and relation.has_tenant

        scope = tenant_scope.TenantScope(self.tree, is_tenant_table, lambda name: name.lower() == column, column)
        covered = {id(r.table) for r in scope.references() if r.constrained}
        self.filter_values[:] = [_describe(value, self.param_values) for value in scope.values]
        problems: dict[str, None] = {}
        for table in tenant_scope.table_references(self.tree):
            relation = catalog.get(_ref(table))
            if relation is None or not (relation.has_tenant or relation.tenant_bases):
                continue
            if relation.has_tenant and id(table) in covered:
                continue
            if tenant is not None and rls_scoped(relation):
                continue
            problems[_problem(relation, column, tenant, role)] = None
        return list(problems)


def analyse(sql: str, tenant_column: str, param_values: Mapping[int, str] | None = None) -> Analysis:
    """Check that `sql` is one read-only statement; GateRefused (exit 1) when it is not, InputError
    (exit 2) when PostgreSQL's grammar rejects it."""
    try:
        statements = parse_sql(sql)
    except ParseError as error:
        raise InputError(f"the query is not valid SQL: {error.args[0] if error.args else error}") from None
    if not statements:
        raise InputError("the query is empty")
    if len(statements) > 1:
        raise GateRefused(f"{REFUSED}: it has {len(statements)} statements; `migguard query` runs exactly one")
    root = statements[0].stmt
    kind = _root_kind(root)
    for node in _walk(root):
        _check_node(node)
    tree = None
    if kind == "select":
        trees = tenant_scope.parse(sql)
        if not trees or len(trees) != 1:
            raise GateRefused(f"{REFUSED}: migguard cannot analyse this SELECT's tenant filter (sqlglot does not "
                              "read it); rewrite it in plainer SQL")
        tree = trees[0]
    return Analysis(kind, tree, tenant_column, dict(param_values or {}))


def _root_kind(root: ast.Node) -> str:
    if isinstance(root, ast.SelectStmt):
        return "select"
    if isinstance(root, ast.VariableShowStmt):
        return "show"
    if isinstance(root, ast.ExplainStmt):
        for option in root.options or ():
            if option.defname == "analyze" and _truthy(option.arg):
                raise GateRefused(f"{REFUSED}: EXPLAIN ANALYZE executes the statement; use EXPLAIN without ANALYZE")
        if not isinstance(root.query, ast.SelectStmt):
            raise GateRefused(f"{REFUSED}: EXPLAIN of {_statement_name(root.query)} statement; "
                              "`migguard query` explains SELECT statements only")
        return "explain"
    raise GateRefused(f"{REFUSED}: this is {_statement_name(root)} statement; "
                      "`migguard query` runs only SELECT, VALUES, SHOW and EXPLAIN")


def _statement_name(node: ast.Node | None) -> str:
    name = type(node).__name__
    return _STATEMENT_NAMES.get(name, f"a {name.removesuffix('Stmt')}")


def _truthy(arg: ast.Node | None) -> bool:
    """EXPLAIN (ANALYZE) / (ANALYZE true|on|1); only an explicit false/off/0 turns it off."""
    if arg is None:
        return True
    value = getattr(arg, "sval", None) or getattr(arg, "ival", None) or getattr(arg, "boolval", None)
    return str(value).lower() not in ("false", "off", "0", "no", "none")


def _check_node(node: ast.Node) -> None:
    if isinstance(node, _WRITE_NODES):
        raise GateRefused(f"{REFUSED}: it contains {_statement_name(node)} (a data-modifying WITH clause); "
                          "`migguard query` never writes")
    if isinstance(node, ast.SelectStmt):
        if node.intoClause is not None:
            raise GateRefused(f"{REFUSED}: SELECT … INTO creates a table; `migguard query` never writes")
        if node.lockingClause:
            strength = getattr(node.lockingClause[0].strength, "name", "")
            words = _LOCK_WORDS.get(strength, "FOR UPDATE/SHARE")
            raise GateRefused(f"{REFUSED}: {words} locks rows; `migguard query` takes no row locks")
    if isinstance(node, ast.FuncCall):
        name = _function_name(node)
        reason = _WRITING_FUNCTIONS.get(name) or next((why for prefix, why in _WRITING_PREFIXES
                                                       if name.startswith(prefix)), None)
        if reason:
            raise GateRefused(f"{REFUSED}: it calls {name}(), which {reason}")


def _function_name(node: ast.FuncCall) -> str:
    parts = [getattr(part, "sval", "") for part in node.funcname or ()]
    return (parts[-1] if parts else "").lower()


def _walk(value: object) -> Iterator[ast.Node]:
    """Every node under `value`, itself included."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Node):
            yield item
            stack.extend(getattr(item, name, None) for name in item.__slots__)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def _ref(table: exp.Table) -> str:
    """The relation as regclass text, each part quoted as PostgreSQL resolved it."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in tenant_scope.table_parts(table))


def _describe(value: exp.Expression, params: Mapping[int, str]) -> str:
    """A tenant value for the audit: a literal, a parameter's value, or a placeholder."""
    value = tenant_scope.uncast(value)
    if isinstance(value, exp.Subquery | exp.Query):
        return "(subquery)"
    if isinstance(value, exp.Literal):
        return str(value.this)
    if isinstance(value, exp.Parameter) and str(value.name).isdigit() and int(value.name) in params:
        return params[int(value.name)]
    return "(expression)"


def _problem(relation: Relation, column: str, tenant: str | None, role: str) -> str:
    name = relation.name
    if tenant is None:
        if relation.has_tenant:
            return (f"{name} is a multi-tenant table and the query does not filter on its {column} in WHERE "
                    f"(add `WHERE {column} = …`, or pass --tenant ID to scope it with row-level security)")
        bases = ", ".join(base for base, _ in relation.tenant_bases)
        return (f"{name} reads multi-tenant table(s) {bases} and has no {column} column to filter on "
                f"(pass --tenant ID to scope it with row-level security)")
    if relation.kind in _TABLE_KINDS:
        return (f"row-level security is not active on {name} for role {role} (RLS disabled, not forced for "
                f"the owner, or the role bypasses RLS), so --tenant does not scope it: filter on {column} in WHERE")
    if relation.kind == "v":
        inactive = [base for base, active in relation.tenant_bases if not active]
        if not relation.security_invoker:
            return (f"view {name} is not security_invoker, so --tenant does not scope the tenant rows it reads: "
                    f"filter on {column} in WHERE")
        return (f"row-level security is not active for role {role} on {', '.join(inactive) or 'the tables'} "
                f"read by view {name}, so --tenant does not scope it: filter on {column} in WHERE")
    what = {"m": "materialized view", "f": "foreign table"}.get(relation.kind, "relation")
    return f"{what} {name} holds tenant rows without row-level security: filter on {column} in WHERE"


def rls_scoped(relation: Relation) -> bool:
    """Row-level security really restricts this relation for the connected role."""
    if relation.kind in _TABLE_KINDS:
        return relation.rls_active
    if relation.kind == "v":
        return relation.security_invoker and bool(relation.tenant_bases) and all(a for _, a in relation.tenant_bases)
    return False
