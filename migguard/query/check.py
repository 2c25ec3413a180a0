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

Tenant filter (`Analysis.tenant_problems`, given what the catalog says about each table):
every reference to a multi-tenant relation (one with the tenant column) must be restricted,
by a top-level conjunct of the WHERE clause of its own SELECT (or the ON clause of an inner
join, or of the outer join on whose nullable side it is), to
- `t.tenant_id = <value>`, `<value> = t.tenant_id`, `t.tenant_id IN (<values>)`,
  `t.tenant_id = ANY(<value>)`, `t.tenant_id IN (SELECT …)` or `= (SELECT …)`, where a value
  is an expression with no column of the query in it (a literal, a parameter,
  `current_setting(…)`, a scalar subquery); casts on either side are allowed;
- or equality with the tenant column of a relation that is itself restricted
  (`JOIN users u ON u.tenant_id = b.tenant_id`, `USING (tenant_id)`, a correlated subquery's
  `i.tenant_id = b.tenant_id`); an OR is a filter only when every branch filters the relation.
A view or materialized view that reads tenant tables but has no tenant column cannot be
filtered. With `--tenant`, an unfiltered relation is accepted only when row-level security is
really active on it for the connected role (`row_security_active`; for a view: the view is
`security_invoker` and RLS is active on every tenant table it reads). EXPLAIN reads no rows
and is exempt. Not seen: tenant rows read inside functions (`SECURITY DEFINER` or not).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from pglast import ast, parse_sql
from pglast.parser import ParseError

from migguard.core.errors import GateRefused, InputError

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


@dataclass(eq=False)
class _Scope:
    parent: _Scope | None
    entries: list[_Entry] = field(default_factory=list)


@dataclass(eq=False)
class _Entry:
    id: int
    alias: str | None  # the name its columns are qualified with
    ref: str | None  # regclass text to look up; None for subqueries, CTE references and functions
    scope: _Scope


@dataclass(eq=False)
class _Condition:
    expr: ast.Node | None
    scope: _Scope
    targets: frozenset[int] | None  # entries a filter here restricts; None: every entry of the scope
    using: tuple[tuple[int, ...], tuple[int, ...]] | None = None  # JOIN … USING (tenant column)


@dataclass
class Analysis:
    """A statement that passed the read-only check, with what the tenant check needs."""

    kind: str  # select | show | explain
    entries: list[_Entry]
    conditions: list[_Condition]
    tenant_column: str
    param_values: Mapping[int, str] = field(default_factory=dict)  # $n → value, for the audit's tenant context
    filter_values: list[str] = field(default_factory=list)  # filled by tenant_problems

    @property
    def refs(self) -> list[str]:
        """Relations to look up in the catalog (none for EXPLAIN and SHOW: they read no rows)."""
        if self.kind != "select":
            return []
        return sorted({e.ref for e in self.entries if e.ref is not None})

    @property
    def cursor_ok(self) -> bool:
        """A SELECT can run as a server-side cursor, so `--limit` caps what is transferred."""
        return self.kind == "select"

    def tenant_problems(self, catalog: Mapping[str, Relation], tenant: str | None, role: str) -> list[str]:
        """Why the query may not run as it is: unfiltered tenant relations (empty list: it may)."""
        if self.kind != "select":
            return []
        info = {e.id: catalog[e.ref] for e in self.entries if e.ref is not None and e.ref in catalog}
        covered = self._covered(info)
        problems: dict[str, None] = {}
        column = self.tenant_column
        for entry in self.entries:
            relation = info.get(entry.id)
            if relation is None or not (relation.has_tenant or relation.tenant_bases):
                continue
            if relation.has_tenant and entry.id in covered:
                continue
            if tenant is not None and rls_scoped(relation):
                continue
            problems[_problem(relation, column, tenant, role)] = None
        return list(problems)

    def _covered(self, info: Mapping[int, Relation]) -> set[int]:
        def tenant_entries(entries: Sequence[_Entry]) -> list[_Entry]:
            return [e for e in entries if e.id in info and info[e.id].has_tenant]

        filtered: set[int] = set()
        edges: set[tuple[int, int]] = set()
        for condition in self.conditions:
            allowed = condition.targets if condition.targets is not None else {e.id for e in condition.scope.entries}
            if condition.using is not None:
                left = [e.id for e in tenant_entries([self.entries[i] for i in condition.using[0]])]
                right = [e.id for e in tenant_entries([self.entries[i] for i in condition.using[1]])]
                edges |= {(a, b) for a in left for b in right if b in allowed}
                edges |= {(b, a) for a in left for b in right if a in allowed}
                continue
            resolver = _Resolver(condition.scope, tenant_entries, self.tenant_column)
            found, links = _filters(condition.expr, resolver, self.param_values, self.filter_values)
            filtered |= {i for i in found if i in allowed}
            edges |= {(a, b) for a, b in links if b in allowed}
        changed = True
        while changed:
            before = len(filtered)
            filtered |= {b for a, b in edges if a in filtered}
            changed = len(filtered) != before
        return filtered


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
    builder = _Builder(tenant_column)
    if kind == "select":
        builder.select(root, None, frozenset())
    return Analysis(kind, builder.entries, builder.conditions, tenant_column, dict(param_values or {}))


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


def _subqueries(value: object) -> Iterator[ast.SelectStmt]:
    """The outermost SELECTs nested in `value` (subqueries of expressions, not descended into)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.SelectStmt):
            yield item
        elif isinstance(item, ast.Node):
            stack.extend(getattr(item, name, None) for name in item.__slots__)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Builder:
    """Scopes (one per SELECT), the relations each one reads, and the conditions that can filter them."""

    _EXPRESSION_SLOTS = ("targetList", "whereClause", "groupClause", "havingClause", "windowClause", "sortClause",
                         "limitOffset", "limitCount", "valuesLists", "distinctClause")

    def __init__(self, tenant_column: str) -> None:
        self.tenant_column = tenant_column
        self.entries: list[_Entry] = []
        self.conditions: list[_Condition] = []

    def select(self, node: ast.SelectStmt, parent: _Scope | None, ctes: frozenset[str]) -> None:
        if node.withClause is not None:
            visible = set(ctes)
            for cte in node.withClause.ctes or ():
                if node.withClause.recursive:
                    visible.add(cte.ctename)
                if isinstance(cte.ctequery, ast.SelectStmt):
                    self.select(cte.ctequery, parent, frozenset(visible))
                visible.add(cte.ctename)
            ctes = frozenset(visible)
        if node.larg is not None or node.rarg is not None:  # UNION / INTERSECT / EXCEPT
            for branch in (node.larg, node.rarg):
                if branch is not None:
                    self.select(branch, parent, ctes)
            return
        scope = _Scope(parent)
        for item in node.fromClause or ():
            self._from_item(item, scope, ctes)
        if node.whereClause is not None:
            self.conditions.append(_Condition(node.whereClause, scope, None))
        for name in self._EXPRESSION_SLOTS:
            for sub in _subqueries(getattr(node, name, None)):
                self.select(sub, scope, ctes)

    def _entry(self, alias: str | None, ref: str | None, scope: _Scope) -> list[int]:
        entry = _Entry(len(self.entries), alias, ref, scope)
        self.entries.append(entry)
        scope.entries.append(entry)
        return [entry.id]

    def _from_item(self, item: ast.Node, scope: _Scope, ctes: frozenset[str]) -> list[int]:
        """Register what a FROM item reads; return the entries it introduces."""
        if isinstance(item, ast.RangeVar):
            alias = item.alias.aliasname if item.alias is not None else item.relname
            if item.schemaname is None and item.relname in ctes:
                return self._entry(alias, None, scope)
            parts = [p for p in (item.catalogname, item.schemaname, item.relname) if p]
            return self._entry(alias, ".".join(_quote(p) for p in parts), scope)
        if isinstance(item, ast.JoinExpr):
            left = self._from_item(item.larg, scope, ctes)
            right = self._from_item(item.rarg, scope, ctes)
            join = getattr(item.jointype, "name", "JOIN_INNER")
            targets = {"JOIN_LEFT": right, "JOIN_RIGHT": left, "JOIN_FULL": []}.get(join, left + right)
            if item.quals is not None:
                self.conditions.append(_Condition(item.quals, scope, frozenset(targets)))
                for sub in _subqueries(item.quals):
                    self.select(sub, scope, ctes)
            if self.tenant_column in {getattr(name, "sval", None) for name in item.usingClause or ()}:
                self.conditions.append(_Condition(None, scope, frozenset(targets), using=(tuple(left), tuple(right))))
            return left + right
        if isinstance(item, ast.RangeSubselect):
            if isinstance(item.subquery, ast.SelectStmt):
                self.select(item.subquery, scope, ctes)
            return self._entry(item.alias.aliasname if item.alias is not None else None, None, scope)
        if isinstance(item, ast.RangeTableSample) and isinstance(item.relation, ast.RangeVar):
            return self._from_item(item.relation, scope, ctes)
        for sub in _subqueries(item):  # functions in FROM, XMLTABLE, JSON_TABLE: their subqueries
            self.select(sub, scope, ctes)
        alias = getattr(item, "alias", None)
        return self._entry(alias.aliasname if alias is not None else None, None, scope)


class _Resolver:
    """Which tenant entries a column reference denotes, from the condition's scope outward."""

    def __init__(self, scope: _Scope, tenant_entries, column: str) -> None:
        self.scope, self.tenant_entries, self.column = scope, tenant_entries, column

    def tenant_refs(self, expr: ast.Node | None) -> list[_Entry] | None:
        """The entries whose tenant column `expr` is (casts allowed), or None when it is something else."""
        while isinstance(expr, (ast.TypeCast, ast.CollateClause)):
            expr = expr.arg
        if not isinstance(expr, ast.ColumnRef):
            return None
        names = [getattr(f, "sval", None) for f in expr.fields or ()]
        if not names or None in names or names[-1] != self.column:
            return None
        scope: _Scope | None = self.scope
        while scope is not None:
            if len(names) == 1:
                found = self.tenant_entries(scope.entries)
                if found:
                    return found
            else:
                named = [e for e in scope.entries if e.alias == names[-2]]
                if named:
                    return self.tenant_entries(named)
            scope = scope.parent
        return []


def _filters(expr: ast.Node | None, resolver: _Resolver, params: Mapping[int, str],
             values: list[str]) -> tuple[set[int], set[tuple[int, int]]]:
    """Entries `expr` restricts to given tenant values, and tenant-column equalities (edges a → b)."""
    if isinstance(expr, ast.BoolExpr):
        op = getattr(expr.boolop, "name", "")
        if op == "AND_EXPR":
            found: set[int] = set()
            links: set[tuple[int, int]] = set()
            for arg in expr.args or ():
                more, more_links = _filters(arg, resolver, params, values)
                found |= more
                links |= more_links
            return found, links
        if op == "OR_EXPR":
            branches = [_filters(arg, resolver, params, values)[0] for arg in expr.args or ()]
            return (set.intersection(*branches) if branches else set()), set()
        return set(), set()
    if isinstance(expr, ast.A_Expr):
        kind = getattr(expr.kind, "name", "")
        operator = [getattr(n, "sval", None) for n in expr.name or ()]
        if operator != ["="]:
            return set(), set()
        left, right = resolver.tenant_refs(expr.lexpr), resolver.tenant_refs(expr.rexpr)
        if kind == "AEXPR_OP":
            if left is not None and right is not None:
                return set(), _links(left, right, resolver.scope)
            for side, other in ((left, expr.rexpr), (right, expr.lexpr)):
                if side is not None and _is_value(other):
                    values.append(_describe(other, params))
                    return _own(side, resolver.scope), set()
        elif kind == "AEXPR_IN" and left is not None and isinstance(expr.rexpr, (list, tuple)):
            if all(_is_value(item) for item in expr.rexpr):
                values.extend(_describe(item, params) for item in expr.rexpr)
                return _own(left, resolver.scope), set()
        elif kind == "AEXPR_OP_ANY" and left is not None and _is_value(expr.rexpr):
            values.append(_describe(expr.rexpr, params))
            return _own(left, resolver.scope), set()
        return set(), set()
    if isinstance(expr, ast.SubLink) and getattr(expr.subLinkType, "name", "") == "ANY_SUBLINK":
        operator = [getattr(n, "sval", None) for n in expr.operName or ()]
        left = resolver.tenant_refs(expr.testexpr)
        if left is not None and operator in ([], ["="]):
            values.append("(subquery)")
            return _own(left, resolver.scope), set()
    return set(), set()


def _own(entries: list[_Entry], scope: _Scope) -> set[int]:
    """A value filter restricts only the condition's own SELECT (not outer rows it references)."""
    return {e.id for e in entries if e.scope is scope}


def _links(left: list[_Entry], right: list[_Entry], scope: _Scope) -> set[tuple[int, int]]:
    """`a.tenant = b.tenant`: both ways in one SELECT; outer → inner across a correlated subquery."""
    links = set()
    for a in left:
        for b in right:
            if a.scope is scope:
                links.add((b.id, a.id))
            if b.scope is scope:
                links.add((a.id, b.id))
    return links


def _is_value(expr: object) -> bool:
    """No column of the query in it (subqueries are their own SELECTs; a scalar one is a value)."""
    stack = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.ColumnRef):
            return False
        if isinstance(item, ast.SubLink):
            if getattr(item.subLinkType, "name", "") not in ("EXPR_SUBLINK", "ARRAY_SUBLINK"):
                return False
            continue
        if isinstance(item, ast.Node):
            stack.extend(getattr(item, name, None) for name in item.__slots__)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return True


def _describe(expr: object, params: Mapping[int, str]) -> str:
    """A tenant value for the audit: a literal, a parameter's value, or a placeholder."""
    while isinstance(expr, ast.TypeCast):
        expr = expr.arg
    if isinstance(expr, ast.A_Const) and not expr.isnull:
        value = expr.val
        return str(getattr(value, "sval", None) or getattr(value, "ival", None) or getattr(value, "fval", ""))
    if isinstance(expr, ast.ParamRef) and expr.number in params:
        return params[expr.number]
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
