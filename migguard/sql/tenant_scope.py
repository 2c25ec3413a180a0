"""Does a statement constrain every tenant table it reads or writes to a tenant? One analysis, shared.

`migguard scan-app` (application SQL, tenant tables named by configuration) and `migguard query`
(one SELECT, tenant tables known from production's catalog) ask the same question, so they ask it
here and cannot disagree. The caller says which table references are tenant tables and which
column names are the tenant column; this module reads sqlglot's tree and answers, per reference,
whether it is constrained.

Every SELECT, UPDATE and DELETE (the statement, each subquery, each CTE body, each branch of a set
operation) must constrain each tenant table it reads or writes: a conjunct of its WHERE (or of an
inner join's ON; a LEFT JOIN's ON constrains only the joined table, a FULL JOIN's nothing) compares
the table's tenant column with `=`, `IN (…)`, `= ANY(…)` or `IS NOT DISTINCT FROM` to a value (an
expression with no column of the query in it: a parameter, a literal, `current_setting(…)`, a
scalar subquery; casts allowed on either side), or to the tenant column of a table constrained
itself (joins, `USING (tenant_id)`, a correlated outer table). `OR` constrains only what every
branch constrains. An unqualified tenant column counts for every tenant table of its query. A join
to a non-tenant table pinned by a value on one of its own columns (`JOIN tenants t ON t.id =
b.tenant_id WHERE t.slug = $1`) scopes the tables tied to it. A CTE or derived table counts as
constrained when every tenant table in it is. An INSERT with a column list that lacks the tenant
column is unconstrained; without a column list every column is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

UNITS = (exp.Select, exp.Update, exp.Delete)
_DOLLAR_PARAM = re.compile(r"\$(\d+)")
_Key = tuple[int, str]  # (id of the query unit, source alias)

TableTest = Callable[[exp.Table], bool]
ColumnTest = Callable[[str], bool]


def parse(sql: str) -> list[exp.Expression] | None:
    """sqlglot trees of the statements in `sql`, or None when PostgreSQL's grammar or sqlglot rejects it."""
    from migguard.sql.parse import parse_file

    trees = []
    for statement in parse_file(sql).statements:
        if statement.syntax_error is not None:
            return None
        # sqlglot misreads `$1,$2` as a dollar quote; spaces around parameters avoid it.
        try:
            parsed = [t for t in sqlglot.parse(_DOLLAR_PARAM.sub(r" $\1 ", statement.text), read="postgres") if t]
        except (SqlglotError, RecursionError, ValueError, KeyError, IndexError, TypeError, AttributeError):
            return None
        trees.extend(parsed)
    return trees


def name(node: exp.Expression | None) -> str:
    """An identifier as PostgreSQL resolves it: as written when quoted, else lower case."""
    if node is None:
        return ""
    if isinstance(node, exp.Identifier):
        return node.this if node.quoted else node.this.lower()
    return node.name


def table_parts(table: exp.Table) -> tuple[str, ...]:
    """(catalog, schema, table) as far as written, each resolved as PostgreSQL resolves it."""
    return tuple(name(table.args.get(key)) for key in ("catalog", "db", "this") if table.args.get(key) is not None)


def table_references(tree: exp.Expression) -> list[exp.Table]:
    """The relations the statement names (not references to its CTEs, not functions in FROM)."""
    return [t for t in tree.find_all(exp.Table) if isinstance(t.this, exp.Identifier) and cte_of(t) is None]


def cte_of(table: exp.Table) -> exp.CTE | None:
    """The CTE an unqualified name refers to, as PostgreSQL scopes it: a WITH of an enclosing query, where a
    CTE sees those before it (and, WITH RECURSIVE, itself and all of them); else None, a relation."""
    if table.args.get("db") is not None:
        return None
    wanted = table.name.lower() if not table.this.quoted else table.name
    child: exp.Expression = table
    node = table.parent
    while node is not None:
        with_ = (node.args.get("with_") or node.args.get("with")) if isinstance(node, exp.Query | exp.DML) else None
        if isinstance(with_, exp.With) and child is not with_:
            ctes = list(with_.expressions)
            for cte in ctes:
                if name(cte.args["alias"].this) == wanted:
                    return cte
        elif isinstance(node, exp.With):
            ctes = list(node.expressions)
            inside = ctes.index(child) if child in ctes else len(ctes)
            visible = ctes if node.args.get("recursive") else ctes[:inside]
            for cte in visible:
                if name(cte.args["alias"].this) == wanted:
                    return cte
            child = node.parent  # the query that owns this WITH: its CTEs are done with
            node = child.parent if child is not None else None
            continue
        child, node = node, node.parent
    return None


@dataclass(frozen=True)
class Reference:
    """One use of a tenant table, and whether the statement constrains it to a tenant."""

    table: exp.Table
    action: str  # read | update | delete | insert
    constrained: bool

    @property
    def written(self) -> str:
        """The table's name as the statement writes it (without schema)."""
        return self.table.name


@dataclass
class _Source:
    alias: str
    node: exp.Expression
    action: str  # read | update | delete
    table: exp.Table | None = None  # a real table
    derived: exp.Expression | None = None  # the query behind a CTE reference or a derived table


@dataclass
class _Analysis:
    sources: dict[str, _Source]
    constrained: set[str]
    tenant_aliases: list[str] = field(default_factory=list)

    def scoped(self) -> bool:
        return bool(self.constrained) and all(a in self.constrained for a in self.tenant_aliases)


class TenantScope:
    """The tenant-scope analysis of one statement tree.

    `is_tenant_table(table)`: does this reference name a table with the tenant column?
    `is_tenant_column(name)`: is this column name the tenant column? `tenant_column`: its name, for the
    equalities `JOIN … USING (tenant_column)` stands for."""

    def __init__(self, tree: exp.Expression, is_tenant_table: TableTest, is_tenant_column: ColumnTest,
                 tenant_column: str) -> None:
        self.tree, self.is_tenant_table, self.is_tenant_column = tree, is_tenant_table, is_tenant_column
        self.tenant_column = tenant_column
        self.memo: dict[int, _Analysis | None] = {}
        self.values: list[exp.Expression] = []  # what tenant columns are compared with (for the audit)

    def references(self) -> list[Reference]:
        """Every use of a tenant table in a SELECT / UPDATE / DELETE / INSERT, with its verdict."""
        found: list[Reference] = []
        for unit in self.tree.find_all(*UNITS):
            analysis = self.analyse(unit)
            if analysis is None:
                continue
            for alias, source in analysis.sources.items():
                if self._tenant(source):
                    found.append(Reference(source.table, source.action, alias in analysis.constrained))
        for insert in self.tree.find_all(exp.Insert):
            target = insert.this
            if isinstance(target, exp.Schema) and isinstance(target.this, exp.Table) and self.is_tenant_table(target.this):
                columns = [c.name for c in target.expressions]
                found.append(Reference(target.this, "insert",
                                       not columns or any(self.is_tenant_column(c) for c in columns)))
        return found

    def problems(self) -> list[Reference]:
        """The uses of tenant tables that the statement leaves unconstrained."""
        return [r for r in self.references() if not r.constrained]

    def _tenant(self, source: _Source) -> bool:
        return source.table is not None and self.is_tenant_table(source.table)

    # --- one SELECT / UPDATE / DELETE ---------------------------------------------------------

    def analyse(self, unit: exp.Expression) -> _Analysis | None:
        if id(unit) in self.memo:
            return self.memo[id(unit)]  # None while in progress (recursive CTEs)
        self.memo[id(unit)] = None
        sources, conditions = self._sources(unit)
        roots: set[str] = set()
        edges: set[tuple[_Key, str]] = set()  # (constrained source, then this local alias is)
        for condition, applies_to in conditions:
            found_roots, found_edges = self._facts(condition, unit, sources)
            roots |= {a for a in found_roots if applies_to is None or a in applies_to}
            edges |= {(frm, to) for frm, to in found_edges if applies_to is None or to in applies_to}
        for alias, source in sources.items():
            if source.derived is not None and self._query_scoped(source.derived):
                roots.add(alias)
        constrained = set(roots)
        changed = True
        while changed:
            changed = False
            for frm, to in edges:
                if to not in constrained and self._is_constrained(frm, unit, constrained):
                    constrained.add(to)
                    changed = True
        analysis = _Analysis(sources, constrained, [a for a, s in sources.items() if self._tenant(s)])
        self.memo[id(unit)] = analysis
        return analysis

    def _is_constrained(self, key: _Key, unit: exp.Expression, local: set[str]) -> bool:
        unit_id, alias = key
        if unit_id == id(unit):
            return alias in local
        outer = self.memo.get(unit_id)
        return outer is not None and alias in outer.constrained

    def _query_scoped(self, query: exp.Expression) -> bool:
        if isinstance(query, exp.Subquery):
            return self._query_scoped(query.this)
        if isinstance(query, exp.SetOperation):
            return self._query_scoped(query.left) and self._query_scoped(query.right)
        if isinstance(query, UNITS):
            analysis = self.analyse(query)
            return analysis is not None and analysis.scoped()
        return False

    def _sources(self, unit: exp.Expression) -> tuple[dict[str, _Source], list[tuple[exp.Expression, set[str] | None]]]:
        sources: dict[str, _Source] = {}
        conditions: list[tuple[exp.Expression, set[str] | None]] = []

        def add(node: exp.Expression | None, action: str = "read") -> str | None:
            if node is None:
                return None
            source = self._source(node, action)
            sources.setdefault(source.alias, source)
            return source.alias

        if isinstance(unit, exp.Select):
            from_ = unit.args.get("from_") or unit.args.get("from")
            add(from_.this if from_ else None)
            for extra in (from_.expressions if from_ else []):
                add(extra)
        else:
            add(unit.this, "update" if isinstance(unit, exp.Update) else "delete")
            from_ = unit.args.get("from_") or unit.args.get("from")
            if from_ is not None:
                add(from_.this)
            for using in unit.args.get("using") or []:
                add(using)
        for join in unit.args.get("joins") or []:
            earlier = set(sources)
            alias = add(join.this)
            side = (join.args.get("side") or "").upper()
            applies_to = {alias} if side == "LEFT" and alias else None
            applies_to = set(earlier) if side == "RIGHT" else applies_to
            if side != "FULL" and join.args.get("on") is not None:
                conditions.append((join.args["on"], applies_to))
            using = [u.name if isinstance(u, exp.Identifier | exp.Column) else str(u) for u in join.args.get("using") or []]
            if alias and side != "FULL" and any(self.is_tenant_column(u) for u in using) and earlier:
                tie = exp.and_(*(exp.EQ(this=exp.column(self.tenant_column, table=alias),
                                        expression=exp.column(self.tenant_column, table=other))
                                 for other in earlier))
                conditions.append((tie, applies_to))
        where = unit.args.get("where")
        if where is not None:
            conditions.append((where.this, None))
        return sources, conditions

    def _source(self, node: exp.Expression, action: str) -> _Source:
        alias = (node.alias_or_name or "").lower()
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
            cte = cte_of(node)
            if cte is not None:
                return _Source(alias, node, action, derived=cte.this)
            return _Source(alias, node, action, table=node)
        if isinstance(node, exp.Subquery):
            return _Source(alias, node, action, derived=node.this)
        return _Source(alias or f"#{id(node)}", node, action)

    # --- predicates ------------------------------------------------------------------------------

    def _facts(self, condition: exp.Expression, unit: exp.Expression,
               sources: dict[str, _Source]) -> tuple[set[str], set[tuple[_Key, str]]]:
        """Local aliases a condition constrains directly, and tenant ties (from → to)."""
        condition = unparen(condition)
        if isinstance(condition, exp.And):
            left = self._facts(condition.this, unit, sources)
            right = self._facts(condition.expression, unit, sources)
            return left[0] | right[0], left[1] | right[1]
        if isinstance(condition, exp.Or):
            return self._facts(condition.this, unit, sources)[0] & self._facts(condition.expression, unit, sources)[0], set()
        roots: set[str] = set()
        edges: set[tuple[_Key, str]] = set()
        if isinstance(condition, exp.EQ | exp.NullSafeEQ):
            for a, b in ((condition.this, condition.expression), (condition.expression, condition.this)):
                r, e = self._equality(uncast(a), uncast(b), unit, sources)
                roots |= r
                edges |= e
        elif isinstance(condition, exp.In):
            column = uncast(condition.this)
            options = [condition.args["query"]] if condition.args.get("query") else condition.expressions
            if (isinstance(column, exp.Column) and self.is_tenant_column(column.name) and options
                    and all(is_value(o) for o in options)):
                targets = {k[1] for k in self._tenant_targets(column, unit, sources) if k[0] == id(unit)}
                if targets:
                    self.values.extend(options)
                roots |= targets
        return roots, edges

    def _equality(self, a: exp.Expression, b: exp.Expression, unit: exp.Expression,
                  sources: dict[str, _Source]) -> tuple[set[str], set[tuple[_Key, str]]]:
        if not isinstance(a, exp.Column):
            return set(), set()
        value = is_value(b)
        if self.is_tenant_column(a.name):
            targets = [k for k in self._tenant_targets(a, unit, sources) if k[0] == id(unit)]
            if value:
                if targets:
                    self.values.append(b.this if isinstance(b, exp.Any) else b)
                return {k[1] for k in targets}, set()
            other = self._resolve(b, unit, sources) if isinstance(b, exp.Column) else None
            return set(), {(other, k[1]) for k in targets} if other else set()
        # A non-tenant table pinned by one of its own columns (`t.slug = $1`) can scope what it joins.
        key = self._resolve(a, unit, sources)
        if value and key and key[0] == id(unit):
            source = sources.get(key[1])
            if source is not None and not self._tenant(source):
                return {key[1]}, set()
        return set(), set()

    def _tenant_targets(self, column: exp.Column, unit: exp.Expression, sources: dict[str, _Source]) -> list[_Key]:
        if column.table:
            key = self._resolve(column, unit, sources)
            return [key] if key else []
        tenant = [a for a, s in sources.items() if self._tenant(s)]
        return [(id(unit), a) for a in (tenant or list(sources)[:1])]

    def _resolve(self, column: exp.Column, unit: exp.Expression, sources: dict[str, _Source]) -> _Key | None:
        """The source a column belongs to: this query's, or an enclosing query's (correlation)."""
        qualifier = column.table.lower()
        if not qualifier:
            return (id(unit), next(iter(sources))) if len(sources) == 1 else None
        scope: exp.Expression | None = unit
        scope_sources = sources
        while scope is not None:
            if qualifier in scope_sources:
                return id(scope), qualifier
            by_name = [a for a, s in scope_sources.items() if s.table is not None and s.table.name.lower() == qualifier]
            if by_name:
                return id(scope), by_name[0]
            scope = enclosing_unit(scope)
            if scope is None:
                return None
            analysis = self.analyse(scope) if id(scope) not in self.memo else self.memo[id(scope)]
            scope_sources = analysis.sources if analysis else {}
        return None


def is_value(node: exp.Expression) -> bool:
    """No column of the query in it. A subquery is a query of its own: as a whole, or inside, it is a value
    (a scalar subquery, `IN (SELECT …)`)."""
    stack: list[exp.Expression] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, exp.Column):
            return False
        if not isinstance(item, exp.Subquery | exp.Query):
            stack.extend(item.iter_expressions())
    return True


def enclosing_unit(node: exp.Expression) -> exp.Expression | None:
    parent = node.parent
    while parent is not None and not isinstance(parent, UNITS):
        parent = parent.parent
    return parent


def unparen(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def uncast(node: exp.Expression) -> exp.Expression:
    node = unparen(node)
    while isinstance(node, exp.Cast | exp.TryCast):
        node = unparen(node.this)
    return node
