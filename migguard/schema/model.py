"""The schema model: everything migguard compares between two databases, as one pydantic tree.

Ownership is compared relative to the roles the two sides were read as (SPEC 5.4: "ownership by
the role migguard connects as is not drift"): the shadow replays as its own role, production is
read as the role migguard connects as, and the clone of production keeps production's owner
names while the pending migrations create objects there as the shadow's role. So an owner that
is either side's connecting role is `CONNECTING_ROLE` on both sides; any other owner still
compares by name. A database restored from production (the clone) keeps production's owner
names while it is read as the shadow's role: `also_read_as(production's role)` says so, so that
comparing it with a replay does not show every table's owner as drift.

Objects are kept in dicts keyed by their qualified name (`object_key(schema, name)`: `schema.name`,
a part in double quotes when it holds a dot or a quote; functions by their identity signature) so
that a structural diff of two models maps straight back to named objects. Code never splits a
key: each object carries its schema and name as fields. Definitions are stored as PostgreSQL prints them (pg_get_*def, format_type), so two
databases that PostgreSQL considers equal compare equal. Pure data: no I/O here.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from migguard.core.identifiers import object_key


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Fields kept in the model but left out of every comparison (a column's attnum order), as a
    # pydantic `exclude` spec.
    uncompared: ClassVar[dict[str, Any]] = {}

    def __eq__(self, other: object) -> bool:
        """pydantic's equality, its own fast path (equal `__dict__`s) taken first: every member of
        every table is compared on each diff, and the common case, equal, then costs no more than
        comparing two dicts (half a diff's comparing time at 1,000 tables)."""
        if self.__class__ is other.__class__ and self.__dict__ == other.__dict__:
            return True
        return super().__eq__(other)

    def differs(self, other: _Model) -> bool:
        """Whether the compared fields differ: equal objects (the common case) by `==`, without
        serialising either; objects that are not equal by their compared fields, since a field
        left out of comparisons (a column's position) may be all that differs."""
        return self != other and self.compared_fields() != other.compared_fields()

    def compared_fields(self, *, without: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The compared fields as JSON data (what the key hashes and deepdiff reads), minus `without`."""
        return self.model_dump(mode="json", exclude={**self.uncompared, **dict.fromkeys(without, True)})

    @cached_property
    def owned_by_connecting_role(self) -> Any:
        """This object with its owner written as `CONNECTING_ROLE` (`SchemaModel.relative_owners`),
        made once: every diff of a model asks again."""
        return self.model_copy(update={"owner": CONNECTING_ROLE})

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Any:
        """A copy whose cached value is made afresh (the cached one belongs to this object's fields)."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("owned_by_connecting_role", None)
        return copy


SchemaObject = _Model  # the base of every object in the model, for code that compares objects


class IdentitySequence(_Model):
    """The sequence behind an identity column: its name (in the table's schema) and options, as
    `GENERATED … AS IDENTITY (…)` states them (pg_dump prints them all)."""

    name: str
    start: int = 1
    increment: int = 1
    minimum: int = 1
    maximum: int = 2147483647
    cache: int = 1
    cycle: bool = False


class Column(_Model):
    uncompared: ClassVar[dict[str, Any]] = {"position": True}

    name: str
    position: int  # attnum order, as PostgreSQL keeps it
    type: str  # format_type(atttypid, atttypmod)
    nullable: bool = True
    default: str | None = None
    identity: str | None = None  # "always" | "by default"
    identity_sequence: IdentitySequence | None = None  # an identity column's sequence, read from the catalog
    generated: str | None = None  # expression of a stored generated column
    collation: str | None = None  # only when it differs from the type's default
    comment: str | None = None
    statistics: int | None = None  # ALTER COLUMN … SET STATISTICS; None: the server's default


class Constraint(_Model):
    # whether a CHECK is inherited decides who makes it (the parent), not what the table holds
    uncompared: ClassVar[dict[str, Any]] = {"inherited": True}

    name: str
    kind: str  # primary | unique | foreign | check | exclusion
    definition: str  # pg_get_constraintdef
    columns: tuple[str, ...] = ()
    validated: bool = True
    references: str | None = None  # foreign key target table
    comment: str | None = None
    inherited: bool = False  # a CHECK that comes from a parent table only (not conislocal): made and dropped with it


class Index(_Model):
    name: str
    definition: str  # pg_get_indexdef
    unique: bool = False
    method: str = "btree"
    columns: tuple[str, ...] = ()  # column names; expressions appear as their text
    predicate: str | None = None
    valid: bool = True
    constraint: str | None = None  # the constraint this index backs, if any
    comment: str | None = None
    parent: str | None = None  # the partitioned index this partition's index is attached to (regclass text)


class Policy(_Model):
    name: str
    command: str  # all | select | insert | update | delete
    permissive: bool = True
    roles: tuple[str, ...] = ("public",)
    using: str | None = None
    with_check: str | None = None


class Trigger(_Model):
    name: str
    definition: str  # pg_get_triggerdef
    enabled: str = "O"  # O origin, D disabled, R replica, A always


class Table(_Model):
    uncompared: ClassVar[dict[str, Any]] = {"columns": {"__all__": {"position"}},
                                            "constraints": {"__all__": {"inherited"}}}

    schema_name: str
    name: str
    kind: str = "table"  # table | partitioned table | foreign table
    owner: str | None = None
    columns: dict[str, Column] = Field(default_factory=dict)
    constraints: dict[str, Constraint] = Field(default_factory=dict)
    indexes: dict[str, Index] = Field(default_factory=dict)
    policies: dict[str, Policy] = Field(default_factory=dict)
    triggers: dict[str, Trigger] = Field(default_factory=dict)
    rls_enabled: bool = False
    rls_forced: bool = False
    partition_of: str | None = None
    partition_bound: str | None = None
    partition_key: str | None = None
    comment: str | None = None
    grants: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # role → sorted privileges
    persistence: str = "permanent"  # permanent | unlogged
    options: tuple[str, ...] = ()  # reloptions, sorted, e.g. fillfactor=70
    replica_identity: str = "default"  # default | full | nothing | index
    replica_identity_index: str | None = None  # the index of REPLICA IDENTITY USING INDEX
    inherits: tuple[str, ...] = ()  # parents of INHERITS (not partitioning), as regclass text, in order
    grant_options: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # role → privileges granted WITH GRANT OPTION

    @property
    def qualified_name(self) -> str:
        return object_key(self.schema_name, self.name)

    def ordered_columns(self) -> list[Column]:
        return sorted(self.columns.values(), key=lambda c: c.position)


class View(_Model):
    schema_name: str
    name: str
    definition: str  # pg_get_viewdef
    materialized: bool = False
    owner: str | None = None
    options: tuple[str, ...] = ()  # reloptions, e.g. security_invoker=true
    indexes: dict[str, Index] = Field(default_factory=dict)
    comment: str | None = None
    grants: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    triggers: dict[str, Trigger] = Field(default_factory=dict)  # INSTEAD OF triggers on a view

    @property
    def qualified_name(self) -> str:
        return object_key(self.schema_name, self.name)


class Sequence(_Model):
    schema_name: str
    name: str
    data_type: str = "bigint"
    start: int = 1
    increment: int = 1
    minimum: int | None = None
    maximum: int | None = None
    cache: int = 1
    cycle: bool = False
    owned_by: str | None = None  # table.column of an identity/serial column
    grants: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # role → sorted privileges

    @property
    def qualified_name(self) -> str:
        return object_key(self.schema_name, self.name)


class Function(_Model):
    schema_name: str
    name: str
    arguments: str  # pg_get_function_identity_arguments
    kind: str = "function"  # function | procedure | aggregate | window
    returns: str | None = None
    language: str = "sql"
    volatility: str = "volatile"  # immutable | stable | volatile
    security_definer: bool = False
    definition: str = ""  # pg_get_functiondef (empty for aggregates)
    body_hash: str = ""  # sha256 of the definition, for quick comparison
    owner: str | None = None
    grants: dict[str, tuple[str, ...]] = Field(default_factory=lambda: {"public": ("EXECUTE",)})  # PostgreSQL's default

    @property
    def signature(self) -> str:
        return f"{object_key(self.schema_name, self.name)}({self.arguments})"


class EnumType(_Model):
    schema_name: str
    name: str
    values: tuple[str, ...]  # in enumsortorder
    grants: dict[str, tuple[str, ...]] = Field(default_factory=lambda: {"public": ("USAGE",)})  # PostgreSQL's default

    @property
    def qualified_name(self) -> str:
        return object_key(self.schema_name, self.name)


class Domain(_Model):
    schema_name: str
    name: str
    base_type: str
    not_null: bool = False
    default: str | None = None
    constraints: dict[str, str] = Field(default_factory=dict)  # name → definition
    grants: dict[str, tuple[str, ...]] = Field(default_factory=lambda: {"public": ("USAGE",)})  # PostgreSQL's default

    @property
    def qualified_name(self) -> str:
        return object_key(self.schema_name, self.name)


class CompositeType(_Model):
    """A type made by CREATE TYPE … AS (…)."""

    schema_name: str
    name: str
    attributes: tuple[tuple[str, str], ...]  # (name, type with COLLATE when not the type's default), in order
    comment: str | None = None
    grants: dict[str, tuple[str, ...]] = Field(default_factory=lambda: {"public": ("USAGE",)})  # PostgreSQL's default

    @property
    def qualified_name(self) -> str:
        return object_key(self.schema_name, self.name)


class Statistics(_Model):
    """An extended statistics object made by CREATE STATISTICS."""

    schema_name: str
    name: str
    definition: str  # pg_get_statisticsobjdef: the whole CREATE STATISTICS, names qualified
    target: int | None = None  # ALTER STATISTICS … SET STATISTICS; None: the default
    comment: str | None = None

    @property
    def qualified_name(self) -> str:
        return object_key(self.schema_name, self.name)


class Collation(_Model):
    """A collation made by CREATE COLLATION."""

    schema_name: str
    name: str
    provider: str  # icu | libc | builtin
    locale: str | None = None  # the ICU or builtin locale
    lc_collate: str | None = None  # libc
    lc_ctype: str | None = None  # libc
    deterministic: bool = True
    rules: str | None = None  # ICU tailoring rules (PostgreSQL 16+)
    comment: str | None = None

    @property
    def qualified_name(self) -> str:
        return object_key(self.schema_name, self.name)


class RewriteRule(_Model):
    """A rule made by CREATE RULE (pg_rewrite; a view's own _RETURN rule is part of the view)."""

    schema_name: str
    table: str  # the relation the rule is on (a table or a view) in schema_name
    name: str
    definition: str  # pg_get_ruledef
    enabled: str = "O"  # O origin, D disabled, R replica, A always

    @property
    def qualified_name(self) -> str:
        return object_key(self.schema_name, self.table, self.name)


class Extension(_Model):
    name: str
    schema_name: str
    version: str


# The owner "the role that read the model". CURRENT_USER is a keyword: only a quoted identifier
# could name a real role so.
CONNECTING_ROLE = "current_user"


class SchemaModel(_Model):
    """A whole database's schema (user schemas only; system catalogs excluded)."""

    uncompared: ClassVar[dict[str, Any]] = {"dependencies": True}

    server_version: int = 0  # server_version_num; informational, not part of the hash
    # current_user when it was read, and the roles that stand for it (also_read_as); not compared
    connecting_roles: tuple[str, ...] = ()
    schemas: dict[str, str | None] = Field(default_factory=dict)  # schema name → owner
    schema_grants: dict[str, dict[str, tuple[str, ...]]] = Field(default_factory=dict)  # schema → role → privileges
    extensions: dict[str, Extension] = Field(default_factory=dict)
    tables: dict[str, Table] = Field(default_factory=dict)
    views: dict[str, View] = Field(default_factory=dict)
    sequences: dict[str, Sequence] = Field(default_factory=dict)
    functions: dict[str, Function] = Field(default_factory=dict)
    enums: dict[str, EnumType] = Field(default_factory=dict)
    domains: dict[str, Domain] = Field(default_factory=dict)
    composites: dict[str, CompositeType] = Field(default_factory=dict)
    statistics: dict[str, Statistics] = Field(default_factory=dict)
    collations: dict[str, Collation] = Field(default_factory=dict)
    rules: dict[str, RewriteRule] = Field(default_factory=dict)
    # What uses what, as PostgreSQL's pg_depend records it: (dependent, referenced) pairs of nodes
    # (kind, schema, name[, member]), e.g. (("view", "public", "v"), ("column", "public", "t", "c"));
    # `schema/depends.py` reads them. Not compared: a dependency alone is no schema change.
    dependencies: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()

    def comparable(self) -> dict:
        """What two schemas are compared on: everything but the server version and column order.

        Column order is kept for CREATE TABLE but not compared: PostgreSQL cannot reorder columns,
        so a column dropped and re-added by a rollback comes back last (migra and pg-schema-diff
        make the same choice)."""
        return self.relative_owners().model_dump(mode="json", exclude=_NOT_COMPARED)

    def relative_owners(self, roles: set[str] | None = None) -> SchemaModel:
        """The model with every owner in `roles` (default: its own `connecting_roles`) written as
        `CONNECTING_ROLE`, so that databases read as different roles (the shadow's, production's)
        compare ownership relative to the role migguard connects as. Without roles: unchanged."""
        roles = roles if roles is not None else set(self.connecting_roles)
        if not roles:
            return self

        def relative(objects: dict) -> dict:
            return {k: v.owned_by_connecting_role if v.owner in roles else v for k, v in objects.items()}

        return self.model_copy(update={
            "connecting_roles": (),
            "schemas": {k: CONNECTING_ROLE if v in roles else v for k, v in self.schemas.items()},
            "tables": relative(self.tables), "views": relative(self.views), "functions": relative(self.functions),
        })

    def also_read_as(self, *roles: str) -> SchemaModel:
        """This model with `roles` standing for its connecting role too (see the module docstring)."""
        return self.model_copy(update={"connecting_roles": tuple(dict.fromkeys((*self.connecting_roles, *roles)))})

    def canonical_json(self) -> str:
        """Sorted, whitespace-free JSON of `comparable()`: the hash input."""
        return json.dumps(self.comparable(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON: equal schemas have equal fingerprints."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    def without_schemas(self, *names: str) -> SchemaModel:
        """The model minus every object in the named schemas (migguard's own history schema)."""
        return self.model_copy(update={
            "schemas": {k: v for k, v in self.schemas.items() if k not in names},
            "schema_grants": {k: v for k, v in self.schema_grants.items() if k not in names},
            **{category: {k: v for k, v in getattr(self, category).items() if v.schema_name not in names}
               for category in ("tables", "views", "sequences", "functions", "enums", "domains", "composites",
                                 "statistics", "collations", "rules")},
            "dependencies": tuple((a, b) for a, b in self.dependencies if a[1] not in names and b[1] not in names),
        })

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str) -> SchemaModel:
        return cls.model_validate_json(text)


_NOT_COMPARED = {"server_version": True, "connecting_roles": True, "dependencies": True,
                 "tables": {"__all__": {"columns": {"__all__": {"position"}}, "constraints": {"__all__": {"inherited"}}}}}


def row_key(table: Table) -> tuple[str, ...]:
    """Columns that identify a row: the primary key, else a unique key whose columns are all NOT NULL."""
    keys = [c for c in table.constraints.values() if c.kind == "primary"]
    keys += sorted((c for c in table.constraints.values() if c.kind == "unique" and c.columns
                    and all(k in table.columns and not table.columns[k].nullable for k in c.columns)),
                   key=lambda c: (len(c.columns), c.name))
    return keys[0].columns if keys else ()


def not_restorable_columns(changes: list, before: SchemaModel) -> list[tuple[str, str, str]]:
    """(object, table, column) of every dropped column whose values no rollback can match back to
    their rows: its table has no row key. The plan names them (`rollback-not-restorable`)."""
    found = []
    for change in changes:
        if change.kind != "drop column":
            continue
        path = getattr(change, "path", None)
        if path and len(path) == 3:
            table_key, column = object_key(path[0], path[1]), path[2]
        else:  # the longest table name the dotted name starts with: a dot inside a name does not cut it
            table_key = max((k for k in before.tables if change.object.startswith(k + ".")), key=len, default="")
            column = change.object[len(table_key) + 1:]
        table = before.tables.get(table_key)
        if table is None or row_key(table) or (column in table.columns and table.columns[column].generated):
            continue
        found.append((change.object, table_key, column))
    return found
