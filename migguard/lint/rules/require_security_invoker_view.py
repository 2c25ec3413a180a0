"""
## What it does
Flags `CREATE [OR REPLACE] VIEW` over tenant data without `WITH (security_invoker = true)`, and
every `CREATE MATERIALIZED VIEW` over tenant data. A view is over tenant data when it reads a
table this migration creates with the tenant column (`tenant_column`, default `tenant_id`), or
another view of the migration that does, or when its query uses the tenant column.

## Why it is dangerous
A view reads its tables with the rights of the view's owner, not of the caller. The owner is
usually the table owner, which bypasses row level security, so every tenant that can select from
the view sees every tenant's rows. `security_invoker` (PostgreSQL 15 and later) makes the view
check RLS as the caller. Row level security does not apply to materialized views at all: their
rows are stored once, for everyone, and anyone who can select from one sees every tenant.

## Bad
```sql
CREATE VIEW invoice_totals AS
SELECT tenant_id, sum(total) AS total FROM invoices GROUP BY tenant_id;
```

## Good
```sql
CREATE VIEW invoice_totals WITH (security_invoker = true) AS
SELECT tenant_id, sum(total) AS total FROM invoices GROUP BY tenant_id;
```

## When it does not fire
Views that neither read a tenant table of this migration nor use the tenant column, and views
given `security_invoker` later in the same migration with `ALTER VIEW … SET (security_invoker = true)`.
Views over tenant tables created by earlier migrations are found by the catalog audit of
`migguard plan`. On PostgreSQL 14 and older, where `security_invoker` does not exist, the rule
still fires; the hint points to the alternatives.

## References
- https://www.postgresql.org/docs/current/sql-createview.html
- https://www.postgresql.org/docs/current/ddl-rowsecurity.html
- https://www.postgresql.org/docs/current/rules-materializedviews.html
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from migguard.core.findings import Severity
from migguard.lint.context import ALTER_TABLE_KINDS, LintContext, display, identifier, normalise, table_name
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import CreateView


@dataclass(frozen=True, slots=True)
class _View:
    name: str
    materialized: bool
    security_invoker: bool
    relations: frozenset[str]
    columns: frozenset[str]


def _truthy(value: str | None) -> bool:
    """PostgreSQL's boolean reloption parsing: a bare option is true; unique prefixes of true/yes, on, 1."""
    if value is None:
        return True
    text = value.strip().lower()
    return text in ("1", "on") or (bool(text) and ("true".startswith(text) or "yes".startswith(text)))


# PostgreSQL's node kinds of CREATE [MATERIALIZED] VIEW.
_VIEW_KINDS = frozenset({"ViewStmt", "CreateTableAsStmt"})


def _view(statement: Statement) -> _View | None:
    if statement.node_kind not in _VIEW_KINDS:  # the kind answers without parsing further
        return None
    command = statement.command
    if isinstance(command, CreateView):
        invoker = any(name == "security_invoker" and _truthy(value) for name, value in command.options)
        return _View(normalise(command.name), command.materialized, invoker,
                     frozenset(normalise(r) for r in command.relations), frozenset(command.columns))
    tree = statement.ast
    if not (isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "VIEW"):
        return None
    properties = tree.args.get("properties")
    found = properties.expressions if properties is not None else []
    materialized = any(isinstance(p, exp.MaterializedProperty) for p in found)
    invoker = any(isinstance(p, exp.Property) and p.name.lower() == "security_invoker" and _truthy(_value(p))
                  for p in found)
    query = tree.args.get("expression")
    relations: set[str] = set()
    columns: set[str] = set()
    if query is not None:
        ctes = {identifier(cte.args.get("alias").this) for cte in query.find_all(exp.CTE) if cte.args.get("alias")}
        relations = {table_name(t) for t in query.find_all(exp.Table)
                     if not (identifier(t.this) in ctes and not t.args.get("db"))}
        columns = {identifier(i) for i in query.find_all(exp.Identifier)}
    if isinstance(tree.this, exp.Schema):  # CREATE VIEW v (a, b) AS …
        columns |= {identifier(c) for c in tree.this.expressions}
    name = table_name(tree.this)
    return _View(name, materialized, invoker, frozenset(relations), frozenset(columns))


def _value(prop: exp.Property) -> str | None:
    value = prop.args.get("value")
    if value is None:
        return None
    if isinstance(value, exp.Boolean):
        return "true" if value.this else "false"
    return value.name


def _made_invoker_later(context: LintContext, view: str, after: int) -> bool:
    """ALTER VIEW view SET (security_invoker = true) later in the file."""
    for statement in context.parsed():
        if statement.index <= after or statement.node_kind not in ALTER_TABLE_KINDS:
            continue
        tree = statement.ast
        if not isinstance(tree, exp.Alter):
            continue
        if (tree.args.get("kind") or "").upper() != "VIEW" or table_name(tree.this) != view:
            continue
        for action in tree.args.get("actions") or []:
            for item in action.expressions if isinstance(action, exp.AlterSet) else []:
                if isinstance(item, exp.EQ) and item.this.name.lower() == "security_invoker":
                    value = item.expression
                    text = ("true" if value.this else "false") if isinstance(value, exp.Boolean) else value.name
                    if _truthy(text):
                        return True
                elif isinstance(item, exp.Column) and item.name.lower() == "security_invoker":
                    return True
    return False


def _source(tables: list[str], views: list[str], column: str) -> str:
    parts = []
    if tables:
        parts.append(f"tenant table{'s' if len(tables) > 1 else ''} {', '.join(map(display, tables))}")
    if views:
        parts.append(f"view{'s' if len(views) > 1 else ''} {', '.join(map(display, views))} over tenant data")
    return " and ".join(parts) or f"tenant data (it uses {column})"


def check(context: LintContext) -> Iterator[Violation]:
    column = context.settings.tenant_column
    tables = set(context.tenant_tables)
    views: set[str] = set()  # views of this file over tenant data: a view over one is over tenant data too
    for statement in context.parsed():
        if not tables and not views and statement.text.isascii() and column.lower() not in statement.text.lower():
            continue  # it can read no tenant data: no tenant table or view here, and the column is not named
        view = _view(statement)
        if view is None:
            continue
        read_tables, read_views = sorted(view.relations & tables), sorted(view.relations & views)
        if not read_tables and not read_views and column not in view.columns:
            continue
        views.add(view.name)
        source = _source(read_tables, read_views, column)
        if view.materialized:
            yield Violation(
                statement,
                f"Materialized view {display(view.name)} stores rows of {source} once for everyone: row level security "
                "does not apply to materialized views at all, so whoever can select from it sees every tenant.",
                "Use a plain view WITH (security_invoker = true) instead, or revoke SELECT on "
                f"{display(view.name)} from the "
                "application roles and expose it only through a function that filters by the tenant setting.",
                offset=locate.words(statement, "materialized") or 0,
            )
            continue
        if view.security_invoker or _made_invoker_later(context, view.name, statement.index):
            continue
        if context.settings.pg_version >= 15:
            hint = "Create it `WITH (security_invoker = true)` so RLS is checked as the caller, not as the view's owner."
        else:
            hint = (f"PostgreSQL {context.settings.pg_version} has no security_invoker: replace the view with a "
                    "SECURITY INVOKER function that filters by the tenant setting (or a security_barrier view "
                    "that does), or upgrade to PostgreSQL 15+ and use WITH (security_invoker = true).")
        yield Violation(
            statement,
            f"View {display(view.name)} reads {source} with its owner's rights, which bypass row level security, so every "
            "tenant that can select from it sees every tenant's rows.",
            hint,
            offset=locate.words(statement, "view") or 0,
        )


RULE = Rule(
    id="require-security-invoker-view",
    default_severity=Severity.ERROR,
    summary="a view over tenant data must be security_invoker; a materialized view bypasses RLS",
    family="tenancy",
    doc=__doc__,
    check=check,
)
