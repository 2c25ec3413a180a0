"""The change set between two schema models, as ordered SQL with its reverse: a pure function.

The objects that differ are found by equality (`schema/changes.py`); each is then
compared field by field and turned into named `Change`s, which deepdiff explains ("type integer →
bigint"). Every change carries its forward SQL, its reverse SQL (built from the before-model,
so a dropped column comes back with its type, default and constraints), and flags: destructive,
lossy (data that the reverse cannot bring back), and the lock it takes.

Ordering follows edges (`schema/order.py`, each kind a named rule, over `schema/depends.py`'s:
PostgreSQL's pg_depend edges, read into the models, plus the structure the models state): what
an object uses is created before it and dropped after it; the views, rules, policies, triggers, defaults, CHECKs,
indexes and bound functions that use a column being retyped, a table being recreated or a
function being recreated are dropped before that change and recreated after it, exactly those an
edge names. No change carries a rank: where no edge decides, what tears down goes first, then
the order the builders below emit. Renames are not inferred: a renamed
column is a drop plus an add (lossy), which is what the reviewer must see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from migguard.core.collector import no_collection
from migguard.core.identifiers import comment_safe, object_key, quote_ident, quote_literal, quote_qualified
from migguard.schema import ddl_collations, ddl_identity
from migguard.schema.ddl_partitions import IndexTree, add_constraint_sql, attach_sql, constraint_index
from migguard.schema.changes import Explainer, differing
from migguard.schema.ddl_grants import grant_option_steps, grant_steps
from migguard.schema.ddl_statistics import statistics_steps
from migguard.schema.ddl_table import Step, create_clauses, created_steps, property_steps
from migguard.schema.ddl_types import composite_steps
from migguard.schema.depends import Dependencies, Node, function_node, regclass_parts, relation_node
from migguard.schema.order import order
from migguard.schema.model import (
    CONNECTING_ROLE, Collation, Column, CompositeType, Constraint, Domain, EnumType, Function, Index, Policy, RewriteRule,
    SchemaModel, Sequence, Table, Trigger, View,
)

ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
SHARE = "SHARE"
SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"

# Hazards a change carries (`Change.hazards`).
HAZARD_ACCESS_EXCLUSIVE = "access-exclusive-lock"  # blocks every read and write of the table while it runs
HAZARD_BLOCKS_WRITES = "blocks-writes"  # SHARE / SHARE ROW EXCLUSIVE: reads go on, writes wait
HAZARD_DELETES_DATA = "deletes-data"
HAZARD_SCANS_TABLE = "scans-table"  # reads every row (an index build, a validation, a type change)
HAZARD_REWRITES_TABLE = "rewrites-table"  # unless the new type is binary-coercible
HAZARD_INDEX_DROPPED = "index-dropped"  # queries that used it may slow down
HAZARD_NOT_TRANSACTIONAL = "not-transactional"  # CONCURRENTLY: a failure leaves an INVALID index behind


@dataclass(frozen=True)
class Change:
    """One named change: what it is, the SQL both ways, and how risky it is."""

    kind: str  # e.g. "add column", "drop table", "alter column type"
    object: str  # the model key, e.g. "public.users.email" (`object_key` of `path`; a grant adds "to <role>")
    forward: str
    reverse: str | None  # None: cannot be reversed (an enum value); "": undone by another change's reverse
    destructive: bool = False
    lossy: bool = False  # the reverse restores the structure, not the data
    lock: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    path: tuple[str, ...] = ()  # (schema, name) or (schema, table, member): the names, never split from `object`
    details: tuple[str, ...] = ()  # the fields that changed, e.g. "type integer → bigint" (kept objects only)
    # Online forms (`diff(..., online=True)`): `concurrently` SQL (both ways) cannot run inside a
    # transaction block; a `validation` checks the rows of what an earlier change added NOT VALID
    # and must run in a later transaction than that change (`migration_scripts` cuts there).
    concurrently: bool = False
    validation: bool = False
    # Acts on the object as it was, before it, or what it uses, goes (`order.LEAVE`): a revoke
    # on a dropped object, OWNED BY NONE, DETACH PARTITION, NO INHERIT, a default dropped apart.
    leaving: bool = False

    @property
    def hazards(self) -> tuple[str, ...]:
        """What running this change risks, as pg-schema-diff names hazards: derived from its kind,
        lock and flags, so every change carries them whichever function built it."""
        found = []
        if self.lock == ACCESS_EXCLUSIVE:
            found.append(HAZARD_ACCESS_EXCLUSIVE)
        elif self.lock in (SHARE, SHARE_ROW_EXCLUSIVE):
            found.append(HAZARD_BLOCKS_WRITES)
        if self.destructive or self.lossy:
            found.append(HAZARD_DELETES_DATA)
        if self.lock is not None and (  # no lock: a part of a table created by the same change set
                self.kind in ("create index", "recreate type", "alter column type", "set not null") or self.validation
                or (self.kind == "add constraint" and "NOT VALID" not in self.forward)):
            found.append(HAZARD_SCANS_TABLE)
        if self.kind == "alter column type":
            found.append(HAZARD_REWRITES_TABLE)
        if self.kind == "drop index":
            found.append(HAZARD_INDEX_DROPPED)
        if self.concurrently:
            found.append(HAZARD_NOT_TRANSACTIONAL)
        return tuple(found)

    def describe(self) -> str:
        """One line for people and for comments: control characters in names are escaped."""
        flags = [f for f, on in (("destructive", self.destructive), ("lossy", self.lossy)) if on]
        return comment_safe(f"{self.kind} {self.object}" + (f" ({', '.join(flags)})" if flags else "")
                            + (f": {'; '.join(self.details)}" if self.details else ""))


def _change(kind: str, path: tuple[str, ...], forward: str, reverse: str | None, **flags) -> Change:
    """A Change named by its path: the object key is derived from the parts, never the reverse."""
    return Change(kind, object_key(*path), forward, reverse, path=tuple(path), **flags)


def diff(before: SchemaModel, after: SchemaModel, online: bool = False) -> list[Change]:
    """Changes that turn `before` into `after`, in the order they must run. An owner that is either
    side's connecting role is that role on both sides (`SchemaModel.relative_owners`).

    `online`: the forms that keep a live table readable and writable where PostgreSQL has them
    (`_online`). The plan's rollback never uses them: it runs in one transaction (SPEC 6)."""
    with no_collection():  # thousands of short-lived objects, no cycles among them (core/collector.py)
        return _diff(before, after, online)


def _diff(before: SchemaModel, after: SchemaModel, online: bool) -> list[Change]:
    roles = {*before.connecting_roles, *after.connecting_roles}
    before, after = before.relative_owners(roles), after.relative_owners(roles)
    touched = _touched_objects(before, after)
    changes: list[Change] = []
    for name in _keys(touched, "schemas"):
        changes += _schema_changes(name, before.schemas.get(name, _MISSING), after.schemas.get(name, _MISSING))
    for name in _keys(touched, "extensions"):
        old, new = before.extensions.get(name), after.extensions.get(name)
        path, quoted = ((old or new).name,), _dq((old or new).name)
        if old is None:
            changes.append(_change("create extension", path,
                                   f'CREATE EXTENSION IF NOT EXISTS {quoted} WITH SCHEMA {_q(new.schema_name)} VERSION {_lit(new.version)};',
                                   f'DROP EXTENSION {quoted};'))
        elif new is None:
            changes.append(_change("drop extension", path, f'DROP EXTENSION {quoted};',
                                   f'CREATE EXTENSION IF NOT EXISTS {quoted} WITH SCHEMA {_q(old.schema_name)} VERSION {_lit(old.version)};', destructive=True))
        elif old.version != new.version:
            changes.append(_change("update extension", path, f'ALTER EXTENSION {quoted} UPDATE TO {_lit(new.version)};',
                                   f'ALTER EXTENSION {quoted} UPDATE TO {_lit(old.version)};'))
    for name in _keys(touched, "enums"):
        changes += _enum_changes(name, before.enums.get(name), after.enums.get(name), before, after)
    for name in _keys(touched, "domains"):
        changes += _domain_changes(name, before.domains.get(name), after.domains.get(name))
    for name in _keys(touched, "collations"):
        changes += _collation_changes(before.collations.get(name), after.collations.get(name))
    for name in _keys(touched, "composites"):
        changes += _composite_changes(before.composites.get(name), after.composites.get(name))
    for name in _keys(touched, "sequences"):
        if _only_grants_differ(before.sequences.get(name), after.sequences.get(name)):
            continue
        changes += _sequence_changes(name, before.sequences.get(name), after.sequences.get(name), before, after)
    deps = Dependencies(before, after)
    changed_tables = set(_keys(touched, "tables"))
    replaced = _replaced_nodes(changed_tables, before, after, touched)
    # kept functions whose bound bodies use a replaced object (or call such a function): dropped
    # before it and created again after it (PostgreSQL refuses to retype a column they read)
    rebound = _functions_using(replaced, deps, before, after)
    replaced |= {function_node(before.functions[name]) for name in rebound}
    function_drops: list[Change] = []
    for name in _function_order(sorted(set(_keys(touched, "functions")) | rebound), before, after, deps):
        if name not in rebound and _only_grants_differ(before.functions.get(name), after.functions.get(name)):
            continue
        for change in _function_changes(name, before.functions.get(name), after.functions.get(name), deps,
                                        rebound=name in rebound):
            (function_drops if change.kind.startswith("drop ") and name not in rebound else changes).append(change)
    # kept members that use a replaced object are dropped before it and created again after it
    recreate = {n for n in deps.users(replaced) if n[0] in ("policy", "trigger", "constraint", "column", "index")}
    changed_tables |= _tables_of(recreate, before, after)
    grantees = _grantees(before) | _grantees(after)
    tree = IndexTree.of(before, after)
    # parents created before their children; children dropped before their parents (a partition
    # goes with its partitioned table, so dropping it after would fail)
    dropped = sorted((n for n in changed_tables if n not in after.tables), key=lambda n: _table_order(n, before, after),
                     reverse=True)
    kept = sorted((n for n in changed_tables if n in after.tables), key=lambda n: _table_order(n, before, after))
    for name in dropped + kept:
        old_table, new_table = before.tables.get(name), after.tables.get(name)
        if old_table is not None and new_table is not None:
            old_table = _after_parents_recurse(old_table, new_table, before, after)
        changes += _table_changes(name, old_table, new_table, grantees, tree, recreate)
    changes += _sequences_of_recreated_tables(before, after, touched)
    # after the tables' constraint and index drops (a CHECK or an index may call a bound function),
    # each function before the functions it calls
    changes += reversed(function_drops)
    views = _with_dependent_views(set(_keys(touched, "views")) | _views_depending_on(replaced, deps, before, after),
                                  deps, before, after)
    view_order = _view_order(views, deps, before, after)
    view_changes = {name: _view_changes(name, before.views.get(name), after.views.get(name),
                                        name in touched.get("views", set())) for name in view_order}
    # Rules and readers are dropped before the views they read, and created after them (edges).
    for name in sorted(set(_keys(touched, "rules")) | _rules_depending_on(replaced, views, deps, before, after)):
        changes += _rule_changes(before.rules.get(name), after.rules.get(name))
    changes += [c for name in reversed(view_order) for c in view_changes[name] if c.kind == "drop view"]
    changes += [c for name in view_order for c in view_changes[name] if c.kind != "drop view"]
    for name in _keys(touched, "statistics"):
        thing = before.statistics.get(name) or after.statistics.get(name)
        changes += [_change(step.kind, (thing.schema_name, thing.name), step.forward, step.reverse)
                    for step in statistics_steps(before.statistics.get(name), after.statistics.get(name))]
    changes += _object_grant_changes(before, after, touched, rebound)
    explain = Explainer(before, after)
    changes = [replace(c, details=explain.details(c.kind, c.path, c.object)) if c.path else c for c in changes]
    # by the edge rules of `order`; where none decides, teardown first, then as built
    changes = order(changes, before, after)
    return _online(changes, before, after) if online else changes


def reverse_script(changes: Iterable[Change]) -> tuple[str, list[Change]]:
    """The rollback SQL of a change set (reverse order) and the changes that cannot be reversed."""
    lines, irreversible = [], []
    for change in reversed(list(changes)):
        if change.reverse == "":  # undone by another change's reverse (e.g. dropping its table)
            continue
        if change.reverse is None:
            irreversible.append(change)
            lines.append(f"-- cannot reverse: {change.describe()}")
        else:
            if change.lossy:
                lines.append(f"-- restores the structure of {comment_safe(change.object)}, not its data: "
                             "restore that from the backup")
            lines.append(change.reverse)
    return "\n".join(lines) + ("\n" if lines else ""), irreversible


def forward_script(changes: Iterable[Change]) -> str:
    text = "\n".join(change.forward for change in changes)
    return text + ("\n" if text else "")


def migration_scripts(changes: Iterable[Change]) -> list[str]:
    """The forward SQL as the migration files migguard's runner and its lint need, in order: a
    file with CONCURRENTLY runs statement by statement outside a transaction and holds nothing
    else (ban-mixing-concurrently), any other file runs in one transaction. So consecutive
    `concurrently` changes make a file, the changes between them another; the validations come
    last, in a file of their own, once what they validate was added NOT VALID and committed
    (ban-validate-same-transaction). Plain change sets are one file."""
    files: list[list[Change]] = []
    validations = []
    for change in changes:
        if change.validation:
            validations.append(change)
        elif files and files[-1][0].concurrently == change.concurrently:
            files[-1].append(change)
        else:
            files.append([change])
    return [forward_script(file) for file in files + ([validations] if validations else [])]


# --- which objects differ --------------------------------------------------------------------

_MISSING = object()


def _touched_objects(before: SchemaModel, after: SchemaModel) -> dict[str, set[str]]:
    """Category → names of the objects that differ, by equality (serialising only what differs, no deepdiff)."""
    return differing(before, after)


def _keys(touched: dict[str, set[str]], category: str) -> list[str]:
    return sorted(touched.get(category, set()))


def _table_by_regclass(text: str, model: SchemaModel) -> Table | None:
    """The table a regclass text (`public."Foo"`, as PostgreSQL prints a parent) names in `model`."""
    parts = regclass_parts(text)
    return model.tables.get(object_key(*parts)) if parts else None


_RECURSING = ("type", "collation", "nullable", "default")


def _after_parents_recurse(old: Table, new: Table, before: SchemaModel, after: SchemaModel) -> Table:
    """A kept child (partition or INHERITS) as its parents' column changes leave it: ALTER COLUMN …
    TYPE, SET/DROP NOT NULL and SET/DROP DEFAULT on a parent recurse to its children, so the
    child's own change would repeat it (and DROP NOT NULL under a NOT NULL parent is refused)."""
    parents = [old.partition_of] if old.partition_of and old.partition_of == new.partition_of else \
        [p for p in old.inherits if p in new.inherits]
    columns = dict(old.columns)
    for parent in parents:
        was, now = _table_by_regclass(parent, before), _table_by_regclass(parent, after)
        if was is None or now is None:
            continue
        for name, column in columns.items():
            if name not in was.columns or name not in now.columns:
                continue
            update = {f: getattr(now.columns[name], f) for f in _RECURSING
                      if getattr(was.columns[name], f) != getattr(now.columns[name], f)
                      and getattr(column, f) == getattr(was.columns[name], f)}
            if update:
                columns[name] = column.model_copy(update=update)
    return old if columns == old.columns else old.model_copy(update={"columns": columns})


def _table_order(name: str, before: SchemaModel, after: SchemaModel) -> tuple[int, str]:
    """Partitioned and inherited parents before their children; otherwise by name."""
    table = after.tables.get(name) or before.tables.get(name)
    return (1 if table and (table.partition_of or table.inherits) else 0, name)


# --- SQL helpers ------------------------------------------------------------------------------


_q = quote_ident
_lit = quote_literal
_qn = quote_qualified


def _dq(identifier: str) -> str:
    """An identifier always in double quotes (extension names, as they were always printed)."""
    return '"' + identifier.replace('"', '""') + '"'


def _rel(obj: Table | View | Sequence | EnumType | Domain | Function) -> str:
    """A schema object's qualified name as SQL, from its own schema and name."""
    return quote_qualified(obj.schema_name, obj.name)


def _column_sql(column: Column, schema: str) -> str:
    """A column as CREATE TABLE and ADD COLUMN state it (`schema`: its table's, for an identity's sequence)."""
    parts = [_q(column.name), column.type]
    if column.collation:
        parts.append(f"COLLATE {_q(column.collation)}")
    if column.generated:
        parts.append(f"GENERATED ALWAYS AS ({column.generated}) STORED")
    elif column.identity:
        parts.append(ddl_identity.identity_clause(column, schema))
    elif column.default is not None:
        parts.append(f"DEFAULT {column.default}")
    if not column.nullable:
        parts.append("NOT NULL")
    return " ".join(parts)


# --- schemas, types, sequences, functions ----------------------------------------------------


def _schema_changes(name: str, old: object, new: object) -> list[Change]:
    path = (name,)  # schema keys are the plain schema name
    if old is _MISSING:
        return [_change("create schema", path, f"CREATE SCHEMA {_q(name)};", f"DROP SCHEMA {_q(name)};")]
    if new is _MISSING:
        return [_change("drop schema", path, f"DROP SCHEMA {_q(name)};", f"CREATE SCHEMA {_q(name)};",
                        destructive=True)]
    if old != new and new is not None:
        return [_change("alter schema owner", path, f"ALTER SCHEMA {_q(name)} OWNER TO {_owner(str(new))};",
                        f"ALTER SCHEMA {_q(name)} OWNER TO {_owner(str(old))};" if old else None)]
    return []


def _owner(role: str) -> str:
    """An owner as SQL: the role that runs the statement is CURRENT_USER."""
    return "CURRENT_USER" if role == CONNECTING_ROLE else _q(role)


def _enum_sql(enum: EnumType) -> str:
    return f"CREATE TYPE {_rel(enum)} AS ENUM ({', '.join(_lit(v) for v in enum.values)});"


def _enum_changes(name: str, old: EnumType | None, new: EnumType | None, before: SchemaModel,
                  after: SchemaModel | None = None) -> list[Change]:
    enum = old or new
    path, qualified = (enum.schema_name, enum.name), _rel(enum)
    if old is None:
        return [_change("create type", path, _enum_sql(new), f"DROP TYPE {qualified};")]
    if new is None:
        return [_change("drop type", path, f"DROP TYPE {qualified};", _enum_sql(old), destructive=True)]
    # Back: PostgreSQL cannot remove a value, so the reverse recreates the old type (rows holding
    # a value it lacks make it fail, as they should).
    # It runs last in the rollback, when every other object is back as it was before: so it
    # converts the columns and recreates the views of `before`.
    back = None if after is None else _recreate_enum_sql(new, old, before, before.views)
    removed = [v for v in old.values if v not in new.values]
    kept_order = [v for v in new.values if v in old.values] == list(old.values)
    # A value added by ADD VALUE cannot be used before its transaction commits: when the new
    # schema already uses one (a default, a CHECK, an index, a view), the type is recreated.
    if not removed and kept_order and not _new_values_used(old, new, after):
        changes = []
        for index, value in enumerate(new.values):
            if value in old.values:
                continue
            following = next((v for v in new.values[index + 1:] if v in old.values), None)
            preceding = next((v for v in reversed(new.values[:index]) if v in old.values or v in new.values[:index]), None)
            position = f" BEFORE {_lit(following)}" if following else (f" AFTER {_lit(preceding)}" if preceding else "")
            changes.append(_change("add enum value", (*path, value),
                                   f"ALTER TYPE {qualified} ADD VALUE {_lit(value)}{position};",
                                   back if not changes else "",
                                   notes=("PostgreSQL cannot remove an enum value: the rollback recreates the type",)))
        return changes
    users = _enum_users(old, before)
    return [_change("recreate type", path, _recreate_enum_sql(old, new, before, before.views), back,
                    destructive=bool(removed),
                    lossy=bool(removed), lock=ACCESS_EXCLUSIVE if users else None,
                    notes=("rows holding a removed value make the conversion fail",) if removed else
                    ("a value added by ADD VALUE cannot be used in its own transaction: the type is recreated",))]


def _new_values_used(old: EnumType, new: EnumType, after: SchemaModel | None) -> bool:
    """Whether a value `new` adds appears as a literal of the type (`'v'::schema.type`, as
    PostgreSQL prints it) in a column default, constraint, index or view of `after`."""
    if after is None:
        return False
    literals = [f"{_lit(v)}::{_rel(new)}" for v in new.values if v not in old.values]
    texts = [view.definition for view in after.views.values()]
    for table in after.tables.values():
        texts += [c.default or "" for c in table.columns.values()]
        texts += [c.definition for c in table.constraints.values()]
        texts += [i.definition for i in table.indexes.values()]
        texts += [f"{p.using} {p.with_check}" for p in table.policies.values()]
    return any(literal in text for literal in literals for text in texts)


def _enum_users(enum: EnumType, model: SchemaModel) -> list[tuple[Table, Column]]:
    """The table columns of `model` whose type is the enum (format_type prints it qualified and quoted);
    a partition's are its parent's (converted with them: PostgreSQL refuses it on the partition)."""
    names = (_rel(enum), object_key(enum.schema_name, enum.name), enum.name)
    names += tuple(f"{n}[]" for n in names)  # an array of the enum is converted too
    return [(t, c) for t in model.tables.values() if not t.partition_of for c in t.ordered_columns() if c.type in names]


def _recreate_enum_sql(current: EnumType, target: EnumType, model: SchemaModel, views: dict[str, View]) -> str:
    """Values removed or reordered: rename the type away, create it anew and convert every column
    of `model` that uses it (through text), then drop the old one. The `views` that read those
    tables or name the type (and the views that read them) are dropped first and created again
    after: PostgreSQL refuses to retype a column a view reads."""
    qualified = _rel(target)
    temporary = f"{current.name}__migguard_old"
    users = _enum_users(current, model)
    used = {("type", current.schema_name, current.name)} | {("column", t.schema_name, t.name, c.name) for t, c in users}
    shown, deps = SchemaModel(views=views), Dependencies(model)
    readers = _with_dependent_views(_view_keys(deps.users(used), shown, shown), deps, shown, shown)
    order = _view_order(readers, deps, shown, shown)
    steps = [_drop_view_sql(views[k]) for k in reversed(order)]
    steps += [f"ALTER TYPE {qualified} RENAME TO {_q(temporary)};", _enum_sql(target)]
    for table, column in users:
        if column.default is not None:
            steps.append(f"ALTER TABLE {_rel(table)} ALTER COLUMN {_q(column.name)} DROP DEFAULT;")
        array = "[]" if column.type.endswith("[]") else ""
        steps.append(f"ALTER TABLE {_rel(table)} ALTER COLUMN {_q(column.name)} TYPE {qualified}{array} "
                     f"USING {_q(column.name)}::text{array}::{qualified}{array};")
        if column.default is not None:
            steps.append(f"ALTER TABLE {_rel(table)} ALTER COLUMN {_q(column.name)} SET DEFAULT {column.default};")
    steps += [_view_sql(views[k]) for k in order]
    steps.append(f"DROP TYPE {_qn(current.schema_name, temporary)};")
    return "\n".join(steps)


def _domain_sql(domain: Domain) -> str:
    parts = [f"CREATE DOMAIN {_rel(domain)} AS {domain.base_type}"]
    if domain.default is not None:
        parts.append(f"DEFAULT {domain.default}")
    if domain.not_null:
        parts.append("NOT NULL")
    parts += [f"CONSTRAINT {_q(n)} {d}" for n, d in sorted(domain.constraints.items())]
    return " ".join(parts) + ";"


def _domain_changes(name: str, old: Domain | None, new: Domain | None) -> list[Change]:
    domain = old or new
    path, qualified = (domain.schema_name, domain.name), _rel(domain)
    if old is None:
        return [_change("create domain", path, _domain_sql(new), f"DROP DOMAIN {qualified};")]
    if new is None:
        return [_change("drop domain", path, f"DROP DOMAIN {qualified};", _domain_sql(old), destructive=True)]
    if old.base_type != new.base_type:
        return [_change("recreate domain", path, f"DROP DOMAIN {qualified};\n{_domain_sql(new)}",
                        f"DROP DOMAIN {qualified};\n{_domain_sql(old)}", destructive=True,
                        notes=("columns of this domain must be converted first",))]
    changes, target = [], f"ALTER DOMAIN {qualified}"
    if old.default != new.default:
        changes.append(_change("alter domain default", path,
                               f"{target} SET DEFAULT {new.default};" if new.default is not None else f"{target} DROP DEFAULT;",
                               f"{target} SET DEFAULT {old.default};" if old.default is not None else f"{target} DROP DEFAULT;"))
    if old.not_null != new.not_null:
        changes.append(_change("alter domain not null", path, f"{target} {'SET' if new.not_null else 'DROP'} NOT NULL;",
                               f"{target} {'SET' if old.not_null else 'DROP'} NOT NULL;"))
    for constraint in sorted(set(old.constraints) | set(new.constraints)):
        before_def, after_def = old.constraints.get(constraint), new.constraints.get(constraint)
        if before_def == after_def:
            continue
        drop = f"{target} DROP CONSTRAINT {_q(constraint)};"
        if before_def is not None:
            changes.append(_change("drop domain constraint", (*path, constraint), drop,
                                   f"{target} ADD CONSTRAINT {_q(constraint)} {before_def};"))
        if after_def is not None:
            changes.append(_change("add domain constraint", (*path, constraint),
                                   f"{target} ADD CONSTRAINT {_q(constraint)} {after_def};", drop))
    return changes


def _sequence_sql(sequence: Sequence, owned: bool = True) -> str:
    """CREATE SEQUENCE, and its OWNED BY when `owned` (never cut from the text: names may hold newlines)."""
    text = (f"CREATE SEQUENCE {_rel(sequence)} AS {sequence.data_type} INCREMENT {sequence.increment} "
            f"MINVALUE {sequence.minimum} MAXVALUE {sequence.maximum} START {sequence.start} CACHE {sequence.cache}"
            f"{' CYCLE' if sequence.cycle else ''};")
    if owned and sequence.owned_by:
        text += f"\nALTER SEQUENCE {_rel(sequence)} OWNED BY {sequence.owned_by};"
    return text


def _identity_sequence(sequence: Sequence | None, model: SchemaModel) -> bool:
    """A sequence that belongs to an identity column comes and goes with the column."""
    if sequence is None or not sequence.owned_by:
        return False
    # owned_by is printed for SQL (`public."Doc"."Id"`); the model's keys are unquoted.
    parts = regclass_parts(sequence.owned_by, 3)
    if parts is None:
        return False
    *table_parts, column = parts
    table = model.tables.get(object_key(*table_parts))
    return bool(table and column in table.columns and table.columns[column].identity)


def _sequence_changes(name: str, old: Sequence | None, new: Sequence | None, before: SchemaModel,
                      after: SchemaModel) -> list[Change]:
    if _identity_sequence(old, before) or _identity_sequence(new, after):
        return []
    path, qualified = ((old or new).schema_name, (old or new).name), _rel(old or new)
    owner = f"ALTER SEQUENCE {qualified} OWNED BY"
    if old is None:  # created before the tables; owned by its column once the column exists
        changes = [_change("create sequence", path, _sequence_sql(new, owned=False), f"DROP SEQUENCE {qualified};")]
        if new.owned_by:
            changes.append(_change("alter sequence owner", path, f"{owner} {new.owned_by};", f"{owner} NONE;"))
        return changes
    if new is None:  # detached from its column first, or dropping the table would drop it too
        changes = []
        if old.owned_by:
            changes.append(_change("alter sequence owner", path, f"{owner} NONE;", f"{owner} {old.owned_by};", leaving=True))
        changes.append(_change("drop sequence", path, f"DROP SEQUENCE {qualified};", _sequence_sql(old, owned=False), destructive=True))
        return changes
    def options(s: Sequence) -> str:
        return (f"ALTER SEQUENCE {qualified} AS {s.data_type} INCREMENT {s.increment} MINVALUE {s.minimum} "
                f"MAXVALUE {s.maximum} START {s.start} CACHE {s.cache} {'CYCLE' if s.cycle else 'NO CYCLE'};")
    changes = []
    if old.model_copy(update={"owned_by": None}) != new.model_copy(update={"owned_by": None}):
        changes.append(_change("alter sequence", path, options(new), options(old)))
    if old.owned_by != new.owned_by:
        # Detached first: dropping its old table (a renamed table is a drop plus a create) would
        # drop the sequence too; attached to the new column once that exists.
        if old.owned_by:
            changes.append(_change("alter sequence owner", path, f"{owner} NONE;", f"{owner} {old.owned_by};", leaving=True))
        if new.owned_by:
            changes.append(_change("alter sequence owner", path, f"{owner} {new.owned_by};", f"{owner} NONE;"))
    return changes


def _sequences_of_recreated_tables(before: SchemaModel, after: SchemaModel, touched: dict[str, set[str]]) -> list[Change]:
    """A serial's sequence owned by a table that is dropped and created again would go with it:
    it is detached first and owned again once the new table exists."""
    recreated = {_rel(t) + "." for key, t in before.tables.items()
                 if key in after.tables and _recreated_table(t, after.tables[key])}
    changes = []
    for key, sequence in before.sequences.items():
        new = after.sequences.get(key)
        if not recreated or new is None or not sequence.owned_by or new.owned_by != sequence.owned_by \
                or not any(sequence.owned_by.startswith(prefix) for prefix in recreated):
            continue
        if _identity_sequence(sequence, before):  # an identity sequence comes with its column
            continue
        owner = f"ALTER SEQUENCE {_rel(sequence)} OWNED BY"
        path = (sequence.schema_name, sequence.name)
        changes += [_change("alter sequence owner", path, f"{owner} NONE;", f"{owner} {sequence.owned_by};", leaving=True),
                    _change("alter sequence owner", path, f"{owner} {new.owned_by};", f"{owner} NONE;")]
    return changes


def _function_order(names: list[str], before: SchemaModel, after: SchemaModel, deps: Dependencies) -> list[str]:
    """The functions, each after those it calls as PostgreSQL records it (a SQL-standard body is
    bound at creation, so what it calls must exist), by name otherwise."""
    functions = {name: after.functions.get(name) or before.functions[name] for name in names}
    nodes = {function_node(f): name for name, f in functions.items()}
    called = {name: {nodes[n] for n in deps.uses(function_node(f)) if n in nodes} for name, f in functions.items()}
    return _each_after_what_it_uses(names, called)


def _each_after_what_it_uses(names: list[str], uses: dict[str, set[str]]) -> list[str]:
    """`names` in that order, except that each comes after the names it uses (depth first; a
    circle is cut where it closes, as the script could not order it anyway)."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for other in sorted(uses[name] - {name}):
            visit(other)
        order.append(name)

    for name in names:
        visit(name)
    return order


def _function_sql(function: Function) -> str:
    # The body is checked when the function runs, not when it is created: it may read tables
    # created later in the script (pg_dump sets the same).
    return "SET check_function_bodies = off;\n" + function.definition.rstrip().rstrip(";") + ";"


def _function_changes(name: str, old: Function | None, new: Function | None,
                      deps: Dependencies = Dependencies(), rebound: bool = False) -> list[Change]:
    """`rebound`: a kept function whose body uses an object the diff replaces, dropped before
    that change and created after it."""
    function = old or new
    keyword = function.kind.upper() if function.kind in ("function", "procedure") else "FUNCTION"
    # The key is the signature: the name and the argument types, with the schema as the first part.
    path = (function.schema_name, f"{function.name}({function.arguments})")

    def change(kind: str, forward: str, reverse: str | None, **flags) -> Change:
        return Change(kind, name, forward, reverse, path=path, **flags)

    if function.kind == "aggregate":
        return [change("aggregate", f"-- aggregate {comment_safe(name)} differs; migguard does not generate aggregates",
                       None, notes=("aggregates are not generated",))]
    drop = f"DROP {keyword} {_rel(function)}({function.arguments});"
    if old is None:
        return [change(f"create {keyword.lower()}", _function_sql(new), drop)]
    if new is None:
        # a function bound to a relation (row type, SQL-standard body) goes before that relation
        # can: an edge of the before-model (`order`)
        return [change(f"drop {keyword.lower()}", drop, _function_sql(old), destructive=True)]
    if rebound:
        # after its grants are revoked (leaving), so that its rollback grants them again
        return [change(f"drop {keyword.lower()}", drop, _function_sql(old)),
                change(f"{'recreate dependent' if old == new else 'create'} {keyword.lower()}", _function_sql(new), drop)]
    if old.returns != new.returns or old.kind != new.kind:
        return [change(f"recreate {keyword.lower()}", f"{drop}\n{_function_sql(new)}",
                       f"{drop}\n{_function_sql(old)}")]
    return [change(f"replace {keyword.lower()}", _function_sql(new), _function_sql(old))]


# --- tables ------------------------------------------------------------------------------------


def _create_table_sql(table: Table) -> str:
    name = _rel(table)
    if table.partition_of:  # printed by PostgreSQL as regclass text: already qualified and quoted
        return f"CREATE TABLE {name} PARTITION OF {table.partition_of} {table.partition_bound};"
    columns = ",\n    ".join(_column_sql(c, table.schema_name) for c in table.ordered_columns())
    suffix = f" PARTITION BY {table.partition_key}" if table.partition_key else ""
    unlogged, options = create_clauses(table)
    return f"CREATE {unlogged}TABLE {name} (\n    {columns}\n){suffix}{options};"


def _grantees(model: SchemaModel) -> set[str]:
    return {role for relation in (*model.tables.values(), *model.views.values()) for role in relation.grants}


def _recreated_table(old: Table, new: Table) -> bool:
    """A table that turns partitioned or plain (PostgreSQL cannot change that in place): dropped
    and created again."""
    return old.partition_key != new.partition_key


def _table_changes(name: str, old: Table | None, new: Table | None,
                   grantees: set[str] = frozenset(), tree: IndexTree = IndexTree(),
                   recreate: set[Node] = frozenset()) -> list[Change]:
    if old is None:
        return _create_table(new, grantees, tree)
    if new is None:
        return _drop_table(old, grantees)
    if _recreated_table(old, new):  # dropped before it is created (its own name is taken)
        return _drop_table(old, grantees) + _create_table(new, grantees, tree)
    return _alter_table(old, new, tree=tree, recreate=recreate)


def _create_table(table: Table, grantees: set[str] = frozenset(), tree: IndexTree = IndexTree()) -> list[Change]:
    path, qualified = (table.schema_name, table.name), _rel(table)
    changes = [_change("create table", path, _create_table_sql(table), _drop_table_sql(table))]
    if grantees:
        # A new table gets the schema's default privileges (ALTER DEFAULT PRIVILEGES: Supabase grants
        # ALL to anon and authenticated): take them back from every role the schemas grant to, so
        # that exactly the table's own grants follow.
        roles = ", ".join(r if r == "public" else _q(r) for r in sorted(grantees))
        changes.append(_change("revoke default privileges", path, f"REVOKE ALL ON TABLE {qualified} FROM {roles};", ""))
    empty = table.model_copy(update={"columns": {}, "constraints": {}, "indexes": {}, "policies": {}, "triggers": {},
                                     "rls_enabled": False, "rls_forced": False, "grants": {}, "comment": None})
    if table.partition_of:  # PARTITION OF takes the parent's columns: the partition's own NOT NULL and defaults follow
        for column in table.ordered_columns():
            alter = f"ALTER TABLE {qualified} ALTER COLUMN {_q(column.name)}"
            if not column.nullable:
                changes.append(_change("set not null", (*path, column.name), f"{alter} SET NOT NULL;", ""))
            if column.default is not None and not column.generated and not column.identity:
                changes.append(_change("alter column default", (*path, column.name),
                                       f"{alter} SET DEFAULT {column.default};", ""))
    for column in table.ordered_columns():
        if column.comment:
            changes.append(_change("comment on column", (*path, column.name),
                                   f"COMMENT ON COLUMN {qualified}.{_q(column.name)} IS {_comment(column.comment)};", ""))
    if table.inherits:  # created standalone, it inherits last (`created_steps`): INHERIT needs the parents' CHECKs
        table = table.model_copy(update={"constraints": {n: c.model_copy(update={"inherited": False})
                                                         for n, c in table.constraints.items()}})
    for change in _alter_table(empty, table, created=True, tree=tree):
        # Dropping the table undoes its parts, except foreign keys, which must go before any table they reference.
        undo = change.reverse if change.kind == "inherit" or (
            change.kind == "add constraint" and table.constraints[change.path[2]].kind == "foreign") else ""
        changes.append(replace(change, reverse=undo, lock=None))
    return changes


def _drop_table_sql(table: Table) -> str:
    """DROP TABLE; a partition is detached first (a foreign key to its partitioned table refers to
    it too, and DROP refuses while it does)."""
    if table.partition_of:
        return f"ALTER TABLE {table.partition_of} DETACH PARTITION {_rel(table)};\nDROP TABLE {_rel(table)};"
    return f"DROP TABLE {_rel(table)};"


def _drop_table(table: Table, grantees: set[str] = frozenset()) -> list[Change]:
    """Foreign keys first (so tables that reference each other drop in any order), then the table.

    The reverse recreates the table with everything but its foreign keys, which the reverse of
    the first changes adds back once every table exists again."""
    path, qualified = (table.schema_name, table.name), _rel(table)
    target = f"ALTER TABLE {qualified}"
    foreign = {n: c for n, c in table.constraints.items() if c.kind == "foreign"}
    changes = [_change("drop constraint", (*path, n), f"{target} DROP CONSTRAINT {_q(n)};",
                       _add_constraint_sql(target, c), lock=ACCESS_EXCLUSIVE)
               for n, c in sorted(foreign.items())]
    # A child leaves its parents first too: its rollback recreates it standalone and inherits again
    # last, once the parents' columns are back as they were.
    changes += [_change("no inherit", path, f"{target} NO INHERIT {parent};", f"{target} INHERIT {parent};", lock=ACCESS_EXCLUSIVE, leaving=True) for parent in table.inherits]
    # recreated standalone, an INHERITS child holds its inherited CHECKs itself until it inherits again
    rest = table.model_copy(update={"constraints": {n: c.model_copy(update={"inherited": c.inherited and not table.inherits})
                                                    for n, c in table.constraints.items() if n not in foreign},
                                    "inherits": ()})
    recreate = [change.forward for change in _create_table(rest, grantees)]
    changes.append(_change("drop table", path, _drop_table_sql(table), "\n".join(recreate),
                           destructive=True, lossy=True, lock=ACCESS_EXCLUSIVE))
    return changes


def _alter_table(old: Table, new: Table, created: bool = False, tree: IndexTree = IndexTree(),
                 recreate: set[Node] = frozenset()) -> list[Change]:
    """`recreate`: members (policies, triggers, constraints, indexes, column defaults) that use an
    object the diff replaces: dropped before it and created again after it, though unchanged."""
    path, qualified = (new.schema_name, new.name), _rel(new)
    target = f"ALTER TABLE {qualified}"
    changes: list[Change] = []
    if not created:
        columns = _column_changes(old, new, target, recreate)
        if new.partition_of and old.partition_of == new.partition_of:
            # a partition's columns are its parent's: they come and go with the parent's ADD/DROP
            # COLUMN, and PostgreSQL refuses both on the partition ("cannot drop inherited column")
            columns = [c for c in columns if c.kind not in ("add column", "drop column")]
        changes += columns
    changes += [_step_change(new, step) for step in (created_steps(new) if created else property_steps(old, new))]
    if old.partition_of != new.partition_of or old.partition_bound != new.partition_bound:
        # partition_of is regclass text, printed by PostgreSQL qualified and quoted: used as it is.
        if old.partition_of:
            changes.append(_change("detach partition", path,
                                   f"ALTER TABLE {old.partition_of} DETACH PARTITION {qualified};",
                                   f"ALTER TABLE {old.partition_of} ATTACH PARTITION {qualified} {old.partition_bound};", lock=ACCESS_EXCLUSIVE, leaving=True))  # before its parent may be dropped
        if new.partition_of:
            changes.append(_change("attach partition", path,
                                   f"ALTER TABLE {new.partition_of} ATTACH PARTITION {qualified} {new.partition_bound};",
                                   f"ALTER TABLE {new.partition_of} DETACH PARTITION {qualified};", lock=SHARE_UPDATE_EXCLUSIVE))
    changes += _constraint_changes(old, new, target, recreate, tree, created)
    changes += _index_changes(old, new, tree, created, recreate)
    if old.rls_enabled != new.rls_enabled:
        on, off = f"{target} ENABLE ROW LEVEL SECURITY;", f"{target} DISABLE ROW LEVEL SECURITY;"
        changes.append(_change("enable row level security" if new.rls_enabled else "disable row level security", path,
                               on if new.rls_enabled else off, off if new.rls_enabled else on,
                               destructive=not new.rls_enabled, lock=ACCESS_EXCLUSIVE))
    if old.rls_forced != new.rls_forced:
        on, off = f"{target} FORCE ROW LEVEL SECURITY;", f"{target} NO FORCE ROW LEVEL SECURITY;"
        changes.append(_change("force row level security" if new.rls_forced else "no force row level security", path,
                               on if new.rls_forced else off, off if new.rls_forced else on,
                               destructive=not new.rls_forced, lock=ACCESS_EXCLUSIVE))
    changes += _policy_changes(old, new, recreate)
    changes += _trigger_changes(old, new, target, recreate)
    changes += _grant_changes(new, "TABLE", old.grants, new.grants)
    changes += [Change(step.kind, f"{new.qualified_name} {'to' if step.kind == 'grant option' else 'from'} {step.role}",
                       step.forward, step.reverse, path=path)
                for step in grant_option_steps("TABLE", qualified, old.grant_options, new.grant_options)]
    if old.comment != new.comment:
        changes.append(_change("comment on table", path, f"COMMENT ON TABLE {qualified} IS {_comment(new.comment)};",
                               f"COMMENT ON TABLE {qualified} IS {_comment(old.comment)};"))
    if not created and old.owner != new.owner and new.owner and old.owner:
        changes.append(_change("alter table owner", path, f"{target} OWNER TO {_owner(new.owner)};",
                               f"{target} OWNER TO {_owner(old.owner)};"))
    return changes


def _step_change(table: Table, step: Step) -> Change:
    """A `schema/ddl_table.py` step as a Change, placed after what it needs."""
    path = (table.schema_name, table.name) + ((step.member,) if step.member is not None else ())
    return _change(step.kind, path, step.forward, step.reverse, lock=step.lock,
                   notes=step.notes, leaving=step.after == "nothing")


def _comment(text: str | None) -> str:
    return "NULL" if text is None else _lit(text)


def _column_changes(old: Table, new: Table, target: str, recreate: set[Node] = frozenset()) -> list[Change]:
    changes: list[Change] = []
    table = _rel(new)
    for column in new.ordered_columns():
        before = old.columns.get(column.name)
        path = (new.schema_name, new.name, column.name)
        apart = before is not None and ("column", *path) in recreate and before.default is not None \
            and before.default == column.default and not column.generated and not column.identity
        if before is None:
            drop = f"{target} DROP COLUMN {_q(column.name)};"
            changes.append(_change("add column", path, f"{target} ADD COLUMN {_column_sql(column, new.schema_name)};", drop,
                                   lock=ACCESS_EXCLUSIVE))
            if column.comment:
                changes.append(_change("comment on column", path, f"COMMENT ON COLUMN {_rel(new)}.{_q(column.name)} "
                                       f"IS {_comment(column.comment)};", ""))  # goes with the column
            continue
        if before != column or apart:  # an equal column has nothing to alter
            changes += _alter_column(before, column, target, path, table, default_apart=apart)
        if apart:
            # a default that calls a replaced function: dropped before it, set again after it (and
            # after the column's own changes: a type change drops the default it finds)
            alter = f"{target} ALTER COLUMN {_q(column.name)}"
            changes += [_change("drop column default", path, f"{alter} DROP DEFAULT;",
                                f"{alter} SET DEFAULT {before.default};", lock=ACCESS_EXCLUSIVE,
                                leaving=True),
                        _change("alter column default", path, f"{alter} SET DEFAULT {column.default};",
                                f"{alter} DROP DEFAULT;", lock=ACCESS_EXCLUSIVE)]
    for column in old.ordered_columns():
        if column.name not in new.columns:
            path = (old.schema_name, old.name, column.name)
            restore = _restore_column_sql(target, column, old.schema_name)
            if column.statistics is not None:
                restore += f"\n{target} ALTER COLUMN {_q(column.name)} SET STATISTICS {int(column.statistics)};"
            if column.comment:
                restore += f"\nCOMMENT ON COLUMN {_rel(old)}.{_q(column.name)} IS {_comment(column.comment)};"
            changes.append(_change("drop column", path, f"{target} DROP COLUMN {_q(column.name)};", restore,
                                   destructive=True, lossy=True, lock=ACCESS_EXCLUSIVE))
    return changes


# Values a NOT NULL column without a default is re-added with on a non-empty table, until the
# backup restores the real data (a plain ADD COLUMN … NOT NULL would fail there).
_PLACEHOLDERS = {
    "text": "''", "character varying": "''", "character": "''", "citext": "''", "bytea": "''::bytea",
    "smallint": "0", "integer": "0", "bigint": "0", "numeric": "0", "real": "0", "double precision": "0",
    "boolean": "false", "date": "'epoch'", "timestamp without time zone": "'epoch'",
    "timestamp with time zone": "'epoch'", "uuid": "'00000000-0000-0000-0000-000000000000'",
    "json": "'{}'", "jsonb": "'{}'", "interval": "'0'",
}


_NUMBERS = frozenset({"smallint", "integer", "bigint", "numeric", "real", "double precision"})
_TIMES = frozenset({"date", "timestamp without time zone", "timestamp with time zone", "time without time zone",
                    "time with time zone", "interval"})


def _no_cast(old: str, new: str) -> bool:
    """Built-in types with no cast between them (pg_cast): a number and a date or time."""
    def base(type_: str) -> str:
        return re.sub(r"\(\d+(,\d+)?\)", "", type_).removesuffix("[]").strip()
    kinds = {base(old) in _NUMBERS, base(new) in _NUMBERS}, {base(old) in _TIMES, base(new) in _TIMES}
    return kinds[0] == {True, False} and kinds[1] == {True, False}


def _restore_column_sql(target: str, column: Column, schema: str) -> str:
    """Re-add a dropped column exactly as it was; a NOT NULL column without a default gets a
    placeholder default for the rows that exist, dropped again at once."""
    base = column.type.split("(")[0].removesuffix("[]").strip()
    placeholder = _PLACEHOLDERS.get(base) if column.type == base or "(" in column.type else None
    if column.nullable or column.default is not None or column.identity or column.generated or placeholder is None:
        return f"{target} ADD COLUMN {_column_sql(column, schema)};"
    temporary = column.model_copy(update={"default": placeholder})
    return (f"{target} ADD COLUMN {_column_sql(temporary, schema)};  -- placeholder values until the backup restores the data\n"
            f"{target} ALTER COLUMN {_q(column.name)} DROP DEFAULT;")


def _alter_column(old: Column, new: Column, target: str, path: tuple[str, ...], table: str,
                  default_apart: bool = False) -> list[Change]:
    """Changes of one kept column; `table` is the table's qualified name as SQL. `default_apart`:
    an unchanged default is dropped and set again by changes of its own (`_column_changes`)."""
    column = f"{target} ALTER COLUMN {_q(new.name)}"
    changes = []
    if old.generated != new.generated or bool(old.generated) != bool(new.generated):
        # A generation expression cannot be altered in place (before PG 17): drop and re-add.
        changes.append(_change("recreate generated column", path,
                               f"{target} DROP COLUMN {_q(new.name)};\n{target} ADD COLUMN {_column_sql(new, path[0])};",
                               f"{target} DROP COLUMN {_q(old.name)};\n{target} ADD COLUMN {_column_sql(old, path[0])};", destructive=not old.generated, lossy=not old.generated, lock=ACCESS_EXCLUSIVE))
        return changes
    if old.type != new.type or old.collation != new.collation:
        # A user-defined type (schema-qualified: an enum, a domain) has no cast from another
        # type but its text form, nor has a number a cast to a date or time or back: convert
        # through text, as PostgreSQL's own casts cannot (rows whose text does not read as the
        # new type fail the statement, and its transaction with it).
        via = "::text" if old.type != new.type and ("." in old.type + new.type or _no_cast(old.type, new.type)) else ""

        def retype(c: Column) -> str:
            collate = f" COLLATE {_q(c.collation)}" if c.collation else ""
            return f"{column} TYPE {c.type}{collate} USING {_q(c.name)}{via}::{c.type};"
        forward, reverse = retype(new), retype(old)
        if old.default is not None and old.type != new.type:  # a default of the old type may not cast
            forward = f"{column} DROP DEFAULT;\n{forward}"
            if new.default == old.default and not default_apart:  # unchanged: no "alter column default" change puts it back
                forward += f"\n{column} SET DEFAULT {new.default};"
            reverse = f"{column} DROP DEFAULT;\n{reverse}" + ("" if default_apart else f"\n{column} SET DEFAULT {old.default};")
        changes.append(_change("alter column type", path, forward, reverse, lock=ACCESS_EXCLUSIVE,
                               notes=("a type change rewrites the table unless binary-coercible",)))
    identity = [_change("alter column identity", path, forward, reverse, lock=ACCESS_EXCLUSIVE)
                for forward, reverse in ddl_identity.alter_steps(old, new, column, path[0])]
    adds_identity = bool(new.identity) and not old.identity
    if not adds_identity:  # DROP IDENTITY before SET DEFAULT and DROP NOT NULL (refused on an identity column)
        changes += identity
    if old.default != new.default and not new.identity:
        def set_default(c: Column) -> str:
            return f"{column} SET DEFAULT {c.default};" if c.default is not None else f"{column} DROP DEFAULT;"
        # After a type change that dropped the old default, that change's reverse restores it (the
        # old default may not fit the new type, so it must not be set before the type goes back).
        restored = old.type != new.type and old.default is not None
        changes.append(_change("alter column default", path, set_default(new), "" if restored else set_default(old), lock=ACCESS_EXCLUSIVE))
    elif old.default is not None and adds_identity and old.type == new.type:
        # an identity column has no default: the old one goes first (its reverse comes after DROP IDENTITY)
        changes.append(_change("alter column default", path, f"{column} DROP DEFAULT;",
                               f"{column} SET DEFAULT {old.default};", lock=ACCESS_EXCLUSIVE))
    if old.nullable != new.nullable:
        on, off = f"{column} SET NOT NULL;", f"{column} DROP NOT NULL;"
        changes.append(_change("set not null" if not new.nullable else "drop not null", path,
                               off if new.nullable else on, on if new.nullable else off,
                               lock=ACCESS_EXCLUSIVE))
    if adds_identity:  # ADD IDENTITY needs the column NOT NULL already
        changes += identity
    if old.comment != new.comment:
        changes.append(_change("comment on column", path,
                               f"COMMENT ON COLUMN {table}.{_q(new.name)} IS {_comment(new.comment)};",
                               f"COMMENT ON COLUMN {table}.{_q(old.name)} IS {_comment(old.comment)};"))
    return changes


def _add_constraint_sql(target: str, constraint: Constraint) -> str:
    return f"{target} ADD CONSTRAINT {_q(constraint.name)} {constraint.definition};"


def _constraint_changes(old: Table, new: Table, target: str, recreate: set[Node] = frozenset(),
                        tree: IndexTree = IndexTree(), created: bool = False) -> list[Change]:
    """Constraint changes of one table. A CHECK inherited from a parent comes and goes with the
    parent's; a partition's key constraint attached to its parent's goes with the parent's, and a
    new one is added to the partition alone and attached (`ddl_partitions`), unless PARTITION OF
    makes it."""
    changes = []
    names = sorted(set(old.constraints) | set(new.constraints),
                   key=lambda n: ((old.constraints.get(n) or new.constraints.get(n)).kind == "foreign", n))
    qualified = _rel(new)
    for constraint_name in names:
        before, after = old.constraints.get(constraint_name), new.constraints.get(constraint_name)
        path = (new.schema_name, new.name, constraint_name)
        forced = ("constraint", *path) in recreate
        if tree.constraint_goes_with_parent(old, before):
            before = None
        elif before is not None and after is not None and not forced and (
                before == after or before.compared_fields() == after.compared_fields()):
            continue
        if created and tree.constraint_made_by_partition_of(new, after):
            after = None
        before, after = (None if c is None or c.inherited else c for c in (before, after))
        if before == after and not forced:
            continue
        drop = f"{target} DROP CONSTRAINT {_q(constraint_name)};"
        if before is not None and after is not None and before.definition == after.definition.replace(" NOT VALID", "") \
                and not before.validated and after.validated:
            changes.append(_change("validate constraint", path, f"{target} VALIDATE CONSTRAINT {_q(constraint_name)};",
                                   None, lock=SHARE_UPDATE_EXCLUSIVE,
                                   notes=("a validated constraint cannot be marked NOT VALID again; harmless to keep",)))
            continue
        if before is not None and after is not None and before.comment != after.comment \
                and before.model_copy(update={"comment": None}) == after.model_copy(update={"comment": None}):
            changes.append(_change("comment on constraint", path,
                                   f"COMMENT ON CONSTRAINT {_q(constraint_name)} ON {qualified} IS {_comment(after.comment)};",
                                   f"COMMENT ON CONSTRAINT {_q(constraint_name)} ON {qualified} IS {_comment(before.comment)};"))
            continue
        if before is not None:
            key = before.kind in ("primary", "unique")
            index = constraint_index(old, before)  # its partitions' constraints go with it, and come back
            restore = "\n".join(filter(None, [add_constraint_sql(old, before),
                                               tree.restore_children(_qn(old.schema_name, index.name)) if index else ""]))
            changes.append(_change("drop constraint", path, drop, restore, destructive=key, lock=ACCESS_EXCLUSIVE))
        if after is not None:
            foreign = after.kind == "foreign"
            index = constraint_index(new, after)
            undo = "" if tree.constraint_goes_back_with_parent(new, after) else "\n".join(
                filter(None, [drop, tree.restore_adopted(_qn(new.schema_name, index.name)) if index else ""]))
            changes.append(_change("add constraint", path, add_constraint_sql(new, after), undo,
                                   lock=SHARE_ROW_EXCLUSIVE if foreign else ACCESS_EXCLUSIVE))
            if after.comment:
                changes.append(_change("comment on constraint", path,
                                       f"COMMENT ON CONSTRAINT {_q(constraint_name)} ON {qualified} IS "
                                       f"{_comment(after.comment)};", ""))  # goes with the constraint
    return changes


def _index_changes(old: Table | View, new: Table | View, tree: IndexTree = IndexTree(), created: bool = False,
                   recreate: set[Node] = frozenset()) -> list[Change]:
    changes, attach = [], []
    for index_name in sorted(set(old.indexes) | set(new.indexes)):
        # Indexes behind constraints come and go with the constraint; a plain index that takes the
        # name of a dropped constraint's index (or gives it up to a new constraint) is its own change.
        # An index attached to a parent index the diff drops goes with it; a new partition's index
        # for a kept parent index is made by PARTITION OF (`ddl_partitions`).
        raw_before, raw_after = old.indexes.get(index_name), new.indexes.get(index_name)
        if isinstance(new, Table) and raw_after is not None and tree.needs_attach(new, raw_before, raw_after) \
                and not (created and tree.made_by_partition_of(new, raw_after)):
            attach.append(_change("attach index", (new.schema_name, index_name), attach_sql(raw_after.parent, new, raw_after),
                                  tree.unattach_sql(new, raw_after), lock=SHARE_UPDATE_EXCLUSIVE))
        if tree.goes_with_parent(raw_before):
            raw_before = None
        if created and raw_after is not None and isinstance(new, Table) and tree.made_by_partition_of(new, raw_after):
            raw_after = None
        before, after = (None if i is None or i.constraint else i for i in (raw_before, raw_after))
        # an index whose expression or predicate reads a retyped column (an edge says so) is made again
        recast = before is not None and after is not None and ("index", new.schema_name, index_name) in recreate
        if before == after and not recast:
            continue
        path = (new.schema_name, index_name)
        qualified = _qn(*path)
        drop = f"DROP INDEX {qualified};"
        if before is not None and after is not None and before.definition == after.definition and not recast:
            if before.comment != after.comment:
                changes.append(_change("comment on index", path, f"COMMENT ON INDEX {qualified} IS {_comment(after.comment)};",
                                       f"COMMENT ON INDEX {qualified} IS {_comment(before.comment)};"))
            continue
        if before is not None:
            restore = "\n".join(filter(None, [before.definition + ";", tree.restore_children(qualified)]))
            changes.append(_change("drop index", path, drop, restore, lock=ACCESS_EXCLUSIVE))
        if after is not None:
            # an index attached to a parent index the diff creates is dropped with that parent
            undo = "" if isinstance(new, Table) and tree.undone_by_parent(new, after) else \
                "\n".join(filter(None, [drop, tree.restore_adopted(qualified)]))
            changes.append(_change("create index", path, after.definition + ";", undo, lock=SHARE))
            if after.comment:
                changes.append(_change("comment on index", path, f"COMMENT ON INDEX {qualified} IS {_comment(after.comment)};",
                                       ""))  # goes with the index
    return changes + attach


def _policy_sql(table: str, policy: Policy) -> str:
    """CREATE POLICY on `table` (its qualified name as SQL)."""
    text = (f"CREATE POLICY {_q(policy.name)} ON {table} AS {'PERMISSIVE' if policy.permissive else 'RESTRICTIVE'} "
            f"FOR {policy.command.upper()} TO {', '.join(r if r == 'public' else _q(r) for r in policy.roles)}")
    if policy.using is not None:
        text += f" USING ({policy.using})"
    if policy.with_check is not None:
        text += f" WITH CHECK ({policy.with_check})"
    return text + ";"


def _policy_changes(old: Table, new: Table, recreate: set[Node] = frozenset()) -> list[Change]:
    """Changed policies are dropped and created; so are those `recreate` names (PostgreSQL refuses
    to retype a column or drop a function a policy uses)."""
    changes, table = [], _rel(new)
    for policy_name in sorted(set(old.policies) | set(new.policies)):
        before, after = old.policies.get(policy_name), new.policies.get(policy_name)
        path = (new.schema_name, new.name, policy_name)
        if before == after and ("policy", *path) not in recreate:
            continue
        drop = f"DROP POLICY {_q(policy_name)} ON {table};"
        if before is not None:
            changes.append(_change("drop policy", path, drop, _policy_sql(table, before),
                                   destructive=after is None, lock=ACCESS_EXCLUSIVE))
        if after is not None:
            changes.append(_change("create policy", path, _policy_sql(table, after), drop,
                                   lock=ACCESS_EXCLUSIVE))
    return changes


def _trigger_changes(old: Table, new: Table, target: str, recreate: set[Node] = frozenset()) -> list[Change]:
    changes, table = [], _rel(new)
    states = {"O": "ENABLE", "D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}
    for trigger_name in sorted(set(old.triggers) | set(new.triggers)):
        before, after = old.triggers.get(trigger_name), new.triggers.get(trigger_name)
        path = (new.schema_name, new.name, trigger_name)
        forced = ("trigger", *path) in recreate
        if before == after and not forced:
            continue
        drop = f"DROP TRIGGER {_q(trigger_name)} ON {table};"
        if before is not None and after is not None and before.definition == after.definition and not forced:
            changes.append(_change("alter trigger state", path,
                                   f"{target} {states[after.enabled]} TRIGGER {_q(trigger_name)};",
                                   f"{target} {states[before.enabled]} TRIGGER {_q(trigger_name)};"))
            continue
        if before is not None:
            changes.append(_change("drop trigger", path, drop, _trigger_sql(target, before)))
        if after is not None:
            changes.append(_change("create trigger", path, _trigger_sql(target, after), drop,
                                   lock=SHARE_ROW_EXCLUSIVE))
    return changes


def _trigger_sql(target: str, trigger: Trigger) -> str:
    text = trigger.definition + ";"
    if trigger.enabled != "O":
        states = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}
        text += f"\n{target} {states[trigger.enabled]} TRIGGER {_q(trigger.name)};"
    return text


def _grant_changes(relation: Table | View, kind: str, old: dict[str, tuple[str, ...]],
                   new: dict[str, tuple[str, ...]]) -> list[Change]:
    changes = []
    path, qualified = (relation.schema_name, relation.name), _rel(relation)
    for role in sorted(set(old) | set(new)):
        before, after = set(old.get(role, ())), set(new.get(role, ()))
        grantee = role if role == "public" else _q(role)
        added, removed = sorted(after - before), sorted(before - after)
        if added:
            changes.append(Change("grant", f"{relation.qualified_name} to {role}",
                                  f"GRANT {', '.join(added)} ON {kind} {qualified} TO {grantee};",
                                  f"REVOKE {', '.join(added)} ON {kind} {qualified} FROM {grantee};", path=path))
        if removed:
            changes.append(Change("revoke", f"{relation.qualified_name} from {role}",
                                  f"REVOKE {', '.join(removed)} ON {kind} {qualified} FROM {grantee};",
                                  f"GRANT {', '.join(removed)} ON {kind} {qualified} TO {grantee};", path=path))
    return changes


def _collation_changes(old: Collation | None, new: Collation | None) -> list[Change]:
    """Created first among the types (a column, a domain or an attribute may use it), dropped last."""
    path = ((old or new).schema_name, (old or new).name)
    if old is not None and new is not None and old.model_copy(update={"comment": None}) == new.model_copy(
            update={"comment": None}):
        return [_change("comment on collation", path, ddl_collations.comment_sql(new, new.comment),
                        ddl_collations.comment_sql(old, old.comment))]
    changes = []
    if old is not None:
        changes.append(_change("drop collation", path, ddl_collations.drop_sql(old), ddl_collations.create_sql(old)))
    if new is not None:
        changes.append(_change("create collation", path, ddl_collations.create_sql(new), ddl_collations.drop_sql(new)))
    return changes


def _composite_changes(old: CompositeType | None, new: CompositeType | None) -> list[Change]:
    """A composite type is created with the other types (an attribute may be an enum), dropped with them."""
    composite = old or new
    if _only_grants_differ(old, new):
        return []  # `_object_grant_changes` diffs them
    return [_change(step.kind, (composite.schema_name, composite.name) + ((step.member,) if step.member else ()),
                    step.forward, step.reverse, destructive=step.destructive,
                    lossy=step.destructive)
            for step in composite_steps(old, new)]


def _recreated(old: object, new: object) -> bool:
    """A function whose result or kind changes, an enum whose values are removed or reordered: the
    diff drops and creates it (`_function_changes`, `_enum_changes`), so it loses its grants."""
    if isinstance(old, Function) and isinstance(new, Function):
        return old.returns != new.returns or old.kind != new.kind
    if isinstance(old, EnumType) and isinstance(new, EnumType):
        kept = [v for v in new.values if v in old.values]
        return kept != list(old.values)
    return False


def _only_grants_differ(old: Sequence | Function | CompositeType | None,
                        new: Sequence | Function | CompositeType | None) -> bool:
    """Kept, and equal but for its grants (which `_object_grant_changes` diffs)."""
    if old is None or new is None:
        return False
    return old.model_copy(update={"grants": {}}) == new.model_copy(update={"grants": {}})


def _object_grant_changes(before: SchemaModel, after: SchemaModel, touched: dict[str, set[str]],
                          rebound: set[str] = frozenset()) -> list[Change]:
    """Grants on schemas, sequences, functions and types, once the object exists. A dropped
    object's grants are revoked just before it goes, so that its rollback grants them again after
    recreating it; a created object's go with it."""
    found: list[tuple[tuple[str, ...], str, str, str, dict | None, dict | None]] = []
    for name in sorted(touched.get("schema_grants", set()) | touched.get("schemas", set())):
        old = before.schema_grants.get(name, {}) if name in before.schemas else None
        new = after.schema_grants.get(name, {}) if name in after.schemas else None
        found.append(((name,), name, "SCHEMA", _q(name), old, new))
    for category, keyword in (("sequences", "SEQUENCE"), ("functions", None), ("enums", "TYPE"), ("domains", "DOMAIN"),
                              ("composites", "TYPE")):
        for key in sorted(set(_keys(touched, category)) | (rebound if category == "functions" else set())):
            old, new = getattr(before, category).get(key), getattr(after, category).get(key)
            thing = old or new
            if keyword is None and thing.kind == "aggregate":
                continue  # not generated (see _function_changes)
            if keyword is None:  # a function: named by its signature (each its own: FUNCTION or PROCEDURE)
                path, target = (thing.schema_name, f"{thing.name}({thing.arguments})"), f"{_rel(thing)}({thing.arguments})"
            else:
                path, target = (thing.schema_name, thing.name), _rel(thing)
            word = keyword or ("PROCEDURE" if thing.kind == "procedure" else "FUNCTION")  # a window function too
            if old is not None and new is not None and (_recreated(old, new) or key in rebound):
                # dropped and created: grants lost
                found += [(path, key, word, target, old.grants, None), (path, key, word, target, None, new.grants)]
            else:
                found.append((path, key, word, target, old and old.grants, new and new.grants))
    changes = []
    for path, key, word, target, old, new in found:
        if old is None and new is None:
            continue
        for step in grant_steps(word, target, old, new):
            preposition = "to" if step.kind == "grant" else "from"
            changes.append(Change(step.kind, f"{key} {preposition} {step.role}", step.forward,
                                  "" if old is None else step.reverse,
                                  path=path, leaving=new is None))
    return changes


# --- rules (CREATE RULE) ---------------------------------------------------------------------------

# A rule whose action deletes or updates rows, or replaces the statement (DO INSTEAD), can destroy
# data on every write to its table: a change that creates one is destructive.
_REWRITES_DATA = re.compile(r"\s*INSTEAD\b|.*?\b(?:DELETE\s+FROM|UPDATE)\b", re.IGNORECASE | re.DOTALL)


def _rewrites_data(rule: RewriteRule) -> bool:
    """Whether the rule's action (after `DO`, as pg_get_ruledef prints it) is INSTEAD, a DELETE or an UPDATE."""
    action = re.split(r"\sDO\s", rule.definition, maxsplit=1)
    return len(action) < 2 or bool(_REWRITES_DATA.match(action[1]))


def _rules_depending_on(replaced: set[Node], views: set[str], deps: Dependencies, before: SchemaModel,
                        after: SchemaModel) -> set[str]:
    """Kept rules on a recreated table or view, or reading a replaced object or a recreated view:
    PostgreSQL refuses to retype a column or drop a view a rule reads, so they are dropped before
    the change and recreated after it."""
    changing = replaced | {relation_node(m.views[k]) for k in views for m in (before, after) if k in m.views}
    if not changing:
        return set()
    on = {node[1:3] for node in changing if node[0] in ("table", "view")}
    reading = {object_key(*node[1:]) for node in deps.users(changing) if node[0] == "rule"}
    return {key for key, rule in before.rules.items()
            if key in after.rules and ((rule.schema_name, rule.table) in on or key in reading)}


def _rule_sql(rule: RewriteRule) -> str:
    text = rule.definition.rstrip().rstrip(";") + ";"
    if rule.enabled != "O":
        states = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}
        text += f"\nALTER TABLE {_qn(rule.schema_name, rule.table)} {states[rule.enabled]} RULE {_q(rule.name)};"
    return text


def _rule_changes(old: RewriteRule | None, new: RewriteRule | None) -> list[Change]:
    """A rule is created after every table and view (its actions may read any), dropped before them."""
    rule = old or new
    path = (rule.schema_name, rule.table, rule.name)
    drop = f"DROP RULE {_q(rule.name)} ON {_qn(rule.schema_name, rule.table)};"
    writes = new is not None and _rewrites_data(new)
    notes = ("the rule rewrites writes to its table into deletes, updates or other statements",) if writes else ()
    changes = []
    if old is not None:
        changes.append(_change("drop rule", path, drop, _rule_sql(old), lock=ACCESS_EXCLUSIVE))
    if new is not None:
        kind = "create rule" if old is None else "recreate dependent rule" if old == new else "replace rule"
        changed = old is None or old.definition != new.definition
        changes.append(_change(kind, path, _rule_sql(new), drop, destructive=writes and changed,
                               lock=ACCESS_EXCLUSIVE, notes=notes))
    return changes


# --- views ---------------------------------------------------------------------------------------


def _replaced_nodes(tables: set[str], before: SchemaModel, after: SchemaModel,
                    touched: dict[str, set[str]]) -> set[Node]:
    """What the diff replaces under the objects that use it: a column whose type or collation
    changes or whose generation is recreated, a table recreated whole, a function recreated
    (its result or kind changes). PostgreSQL refuses these while a view, a rule, a policy, a
    trigger, a default, a CHECK or an index uses them."""
    nodes: set[Node] = set()
    for name in tables:
        old, new = before.tables.get(name), after.tables.get(name)
        if old is None or new is None:
            continue
        if _recreated_table(old, new):
            nodes.add(relation_node(old))
            continue
        for column, was in old.columns.items():
            now = new.columns.get(column)
            if now is not None and ((was.type, was.collation) != (now.type, now.collation)
                                    or was.generated != now.generated):
                nodes.add(("column", old.schema_name, old.name, column))
    for name in touched.get("functions", ()):
        old, new = before.functions.get(name), after.functions.get(name)
        if old is not None and new is not None and _recreated(old, new):
            nodes.add(function_node(old))
    return nodes


def _functions_using(replaced: set[Node], deps: Dependencies, before: SchemaModel, after: SchemaModel) -> set[str]:
    """The keys of the kept functions that use a replaced object, or call a function that does."""
    if not replaced:
        return set()
    keys = {function_node(f): key for key, f in before.functions.items() if key in after.functions}
    return {keys[node] for node in deps.closure(replaced, ("function",)) - replaced if node in keys}


def _tables_of(members: set[Node], before: SchemaModel, after: SchemaModel) -> set[str]:
    """The kept tables that hold `members` (a column, constraint, policy or trigger names its
    table; an index is looked up)."""
    found = {object_key(*node[1:3]) for node in members if len(node) == 4}
    indexes = {("index", t.schema_name, i): key for key, t in before.tables.items() for i in t.indexes}
    found |= {indexes[node] for node in members if node in indexes}
    return {key for key in found if key in before.tables and key in after.tables}


def _view_keys(nodes: set[Node], before: SchemaModel, after: SchemaModel) -> set[str]:
    """The keys of the kept views among `nodes`."""
    keys = {object_key(*node[1:3]) for node in nodes if node[0] == "view"}
    return {key for key in keys if key in before.views and key in after.views}


def _views_depending_on(replaced: set[Node], deps: Dependencies, before: SchemaModel, after: SchemaModel) -> set[str]:
    """Kept views that use a replaced object: dropped and recreated around it."""
    return _view_keys(deps.users(replaced), before, after) if replaced else set()


def _with_dependent_views(views: set[str], deps: Dependencies, before: SchemaModel, after: SchemaModel) -> set[str]:
    """`views` plus every kept view that reads one of them (through views and functions):
    PostgreSQL refuses to drop a view another view reads, so the reader is dropped first and
    recreated after."""
    nodes = {relation_node(m.views[k]) for k in views for m in (before, after) if k in m.views}
    return views | _view_keys(deps.closure(nodes, ("view",)), before, after)


def _view_order(views: set[str], deps: Dependencies, before: SchemaModel, after: SchemaModel) -> list[str]:
    """The views, each after the views it reads (by name otherwise)."""
    nodes = {relation_node(m.views[k]): k for k in views for m in (before, after) if k in m.views}
    reads = {key: {nodes[n] for n in deps.uses(node) if n in nodes} for node, key in nodes.items()}
    return _each_after_what_it_uses(sorted(views), reads)


def _view_sql(view: View) -> str:
    kind = "MATERIALIZED VIEW" if view.materialized else "VIEW"
    options = f" WITH ({', '.join(view.options)})" if view.options else ""
    text = f"CREATE {kind} {_rel(view)}{options} AS\n{view.definition.rstrip().rstrip(';')};"
    for index in sorted(view.indexes.values(), key=lambda i: i.name):
        text += f"\n{index.definition};"
    for role, privileges in sorted(view.grants.items()):
        grantee = role if role == "public" else _q(role)
        text += f"\nGRANT {', '.join(privileges)} ON TABLE {_rel(view)} TO {grantee};"
    if view.comment:
        text += f"\nCOMMENT ON {kind} {_rel(view)} IS {_comment(view.comment)};"
    for trigger in sorted(view.triggers.values(), key=lambda t: t.name):
        text += "\n" + _trigger_sql(f"ALTER TABLE {_rel(view)}", trigger)
    return text


def _drop_view_sql(view: View) -> str:
    return f"DROP {'MATERIALIZED VIEW' if view.materialized else 'VIEW'} {_rel(view)};"


def _view_changes(name: str, old: View | None, new: View | None, changed: bool) -> list[Change]:
    path = ((old or new).schema_name, (old or new).name)
    if old is None:
        return [_change("create view", path, _view_sql(new), _drop_view_sql(new))]
    if new is None:
        return [_change("drop view", path, _drop_view_sql(old), _view_sql(old), destructive=old.materialized)]
    # Changed, or reads a table whose columns change: drop before the table changes, recreate after.
    return [
        _change("drop view", path, _drop_view_sql(old), _view_sql(old)),
        _change("create view" if changed else "recreate dependent view", path, _view_sql(new), _drop_view_sql(new)),
    ]


# --- online forms ----------------------------------------------------------------------------------


_CREATE_INDEX = re.compile(r"CREATE (UNIQUE )?INDEX ")


def _online(changes: list[Change], before: SchemaModel, after: SchemaModel) -> list[Change]:
    """The same change set in the forms that keep a live table readable and writable, where
    PostgreSQL allows them; on a table that exists on both sides (a new table has no rows and
    no readers), and not on partitioned tables or partitions, where they are refused:
    - CREATE / DROP INDEX CONCURRENTLY (SHARE UPDATE EXCLUSIVE; `concurrently`: outside a transaction);
    - a foreign key or CHECK added NOT VALID (a brief lock, no scan), then VALIDATE CONSTRAINT
      (SHARE UPDATE EXCLUSIVE while it scans) as a `validation`; a new table's foreign keys too (the
      table they reference is locked, and has rows);
    - SET NOT NULL through a CHECK (column IS NOT NULL) added NOT VALID, validated, then SET NOT
      NULL (PostgreSQL 12+ skips its scan: the valid CHECK proves it) and the CHECK dropped."""
    kept = {key: (before.tables[key], after.tables[key]) for key in before.tables.keys() & after.tables.keys()
            if not any(t.partition_key or t.partition_of for t in (before.tables[key], after.tables[key]))}
    # a foreign key locks the table it references too, so a new table's foreign keys are added NOT VALID as well
    unpartitioned = {key: t for key, t in after.tables.items() if not (t.partition_key or t.partition_of)}
    index_tables = {object_key(t.schema_name, index): key for key, pair in kept.items() for t in pair for index in t.indexes}
    for key in before.views.keys() & after.views.keys():
        for view in (before.views[key], after.views[key]):
            index_tables.update({object_key(view.schema_name, index): key for index in view.indexes})
    result: list[Change] = []
    for change in changes:
        table = object_key(*change.path[:2]) if len(change.path) == 3 else None
        if change.kind in ("create index", "drop index") and change.object in index_tables:
            result.append(replace(change, forward=_concurrently(change.forward), reverse=_concurrently(change.reverse),
                                  lock=SHARE_UPDATE_EXCLUSIVE, concurrently=True))
        elif change.kind == "add constraint" and "NOT VALID" not in change.forward and (
                table in kept and kept[table][1].constraints[change.path[2]].kind == "check"
                or table in unpartitioned and unpartitioned[table].constraints[change.path[2]].kind == "foreign"):
            target = f"ALTER TABLE {_qn(*change.path[:2])}"
            result.append(replace(change, forward=change.forward.removesuffix(";") + " NOT VALID;"))
            result.append(_change("validate constraint", change.path, f"{target} VALIDATE CONSTRAINT {_q(change.path[2])};",
                                  "", lock=SHARE_UPDATE_EXCLUSIVE, validation=True))
        elif change.kind == "validate constraint":  # validated by the migration: apart from what it adds
            result.append(replace(change, validation=True))
        elif change.kind == "set not null" and table in kept and not kept[table][1].columns[change.path[2]].identity:
            result += _set_not_null_online(change, kept[table][1])
        else:
            result.append(change)
    return result


def _concurrently(sql: str | None) -> str | None:
    """CREATE [UNIQUE] INDEX (pg_get_indexdef's text) and DROP INDEX, with CONCURRENTLY."""
    if not sql:
        return sql
    if sql.startswith("DROP INDEX "):
        return "DROP INDEX CONCURRENTLY " + sql.removeprefix("DROP INDEX ")
    return _CREATE_INDEX.sub(lambda m: f"CREATE {m.group(1) or ''}INDEX CONCURRENTLY ", sql, count=1)


def _set_not_null_online(change: Change, table: Table) -> list[Change]:
    """SET NOT NULL as two changes: the CHECK added NOT VALID; then (a `validation`) VALIDATE,
    SET NOT NULL and DROP CONSTRAINT. The CHECK's name holds the column's name (the lint rule
    require-check-for-set-not-null reads it so) and is taken by no constraint of the table."""
    column = change.path[2]
    name = _free_name(f"{table.name}_{column}_not_null", set(table.constraints))
    target, constraint = f"ALTER TABLE {_rel(table)}", _q(name)
    check = _change("add not null check", change.path,
                    f"{target} ADD CONSTRAINT {constraint} CHECK ({_q(column)} IS NOT NULL) NOT VALID;",
                    f"{target} DROP CONSTRAINT IF EXISTS {constraint};", lock=ACCESS_EXCLUSIVE,
                    notes=("added NOT VALID: no scan, the lock is held only for the catalog change",))
    finish = replace(change, forward=(f"{target} VALIDATE CONSTRAINT {constraint};\n{change.forward}\n"
                                      f"{target} DROP CONSTRAINT {constraint};"), validation=True,
                     notes=("the validated CHECK proves the column holds no NULL: SET NOT NULL does not scan",))
    return [check, finish]


def _free_name(name: str, taken: set[str]) -> str:
    """`name`, cut to PostgreSQL's 63 bytes (whole characters), with a number when it is taken."""
    for number in range(len(taken) + 1):
        suffix = f"_{number}" if number else ""
        base = name.encode()[:63 - len(suffix)].decode(errors="ignore")
        if base + suffix not in taken:
            return base + suffix
    raise AssertionError("unreachable: fewer taken names than candidates")
