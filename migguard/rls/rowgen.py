"""Generate rows that a table accepts: values satisfying its types, defaults, NOT NULL, CHECKs,
domains, enums, unique keys, partition bounds and foreign keys, found by trying a few candidate
values per column and letting PostgreSQL's error (which column, which constraint) say what to
change next.

Used by the isolation probe on a shadow database: every insert runs in a savepoint of the
caller's transaction, which the caller rolls back. Parents come first (a topological order over
foreign keys; a cycle is broken at a nullable foreign key); a column that belongs to a foreign
key takes the value of the parent row of the same tenant, and a parent referenced through the
tenant column (the tenants table) gets the tenant values in the referenced column. Generated
columns and identity columns are left to PostgreSQL. A table whose rows cannot be made is
reported with the reason (`Skipped`), never silently left out.
"""

from __future__ import annotations

import datetime as _dt
import re
import uuid as _uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import psycopg
from pglast import ast, parse_sql
from psycopg import sql

from migguard.pg import catalog as q
from migguard.pg.catalog import CatalogReader
from migguard.pg.connect import describe

OMIT = object()  # leave the column to its default (identity, generated, DEFAULT, or NULL)
MAX_ATTEMPTS = 40
_SAVEPOINT = "migguard_rowgen"


class Skipped(Exception):
    """A row could not be generated; the message says why."""


@dataclass
class TypeInfo:
    oid: int
    name: str
    typname: str
    typtype: str
    category: str
    base_oid: int
    base_typmod: int
    elem: int
    labels: list[str]


@dataclass
class Column:
    name: str
    attnum: int
    type: str  # format_type, with typmod
    type_oid: int
    typmod: int
    not_null: bool
    has_default: bool
    identity: str
    generated: str
    base: TypeInfo | None = None  # the type under any domains
    domains: tuple[str, ...] = ()  # typnames of the domains on the way


@dataclass
class ForeignKey:
    name: str
    refrelid: int
    columns: list[str]
    ref_columns: list[str]


@dataclass
class Relation:
    oid: int
    schema_name: str
    name: str
    relkind: str
    is_partition: bool
    parent_oid: int | None
    bound: str | None
    strategy: str | None
    key_attnums: list[int]
    columns: list[Column] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    constraint_columns: dict[str, list[str]] = field(default_factory=dict)
    unique_sets: list[list[str]] = field(default_factory=list)
    check_literals: dict[str, list[str]] = field(default_factory=dict)  # column -> constants its CHECKs name
    children: list[int] = field(default_factory=list)

    @property
    def qualified(self) -> str:
        return f"{self.schema_name}.{self.name}"

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema_name, self.name)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class Row:
    """A row PostgreSQL accepted: every non-generated column's value as text (None for NULL)."""

    relation: int  # the table inserted into (a leaf)
    tenant: str  # "A" or "B"
    values: dict[str, str | None]
    overriding: bool = False


@dataclass
class Schema:
    relations: dict[int, Relation]

    def leaves(self, oid: int) -> list[int]:
        """The plain tables under `oid` (itself when it is one)."""
        relation = self.relations[oid]
        if relation.relkind == "r":
            return [oid]
        return [leaf for child in relation.children for leaf in self.leaves(child)]

    def ancestors(self, oid: int) -> Iterator[Relation]:
        relation = self.relations[oid]
        while relation.parent_oid in self.relations:
            parent = self.relations[relation.parent_oid]
            yield parent
            relation = parent


def read_schema(conn: psycopg.Connection) -> Schema:
    """Tables, columns, types, keys and partitions of the application's tables (one query per kind;
    the queries and which tables are the application's: pg/catalog.py ROWGEN_*)."""
    rows = CatalogReader(conn).rows
    relations = {r["oid"]: Relation(**r) for r in rows(q.ROWGEN_RELATIONS_SQL)}
    types = {r["oid"]: TypeInfo(**r) for r in rows(q.ROWGEN_TYPES_SQL)}
    for r in rows(q.ROWGEN_COLUMNS_SQL):
        relation = relations.get(r.pop("relid"))
        if relation is None:
            continue
        column = Column(**r)
        domains, current = [], types.get(column.type_oid)
        while current is not None and current.typtype == "d":
            domains.append(current.typname)
            current = types.get(current.base_oid)
        column.base, column.domains = current, tuple(domains)
        relation.columns.append(column)
    for r in rows(q.ROWGEN_FOREIGN_KEYS_SQL):
        relation = relations.get(r.pop("relid"))
        if relation is not None:
            relation.foreign_keys.append(ForeignKey(**r))
    for r in rows(q.ROWGEN_CONSTRAINT_COLUMNS_SQL):
        relation = relations.get(r["relid"])
        if relation is None:
            continue
        relation.constraint_columns[r["name"]] = list(r["columns"])
        if r["kind"] in ("u", "p", "i") and r["columns"]:
            relation.unique_sets.append(list(r["columns"]))
        if r["expression"]:
            literals = check_literals(r["expression"])
            for column in r["columns"]:
                known = relation.check_literals.setdefault(column, [])
                known.extend(v for v in literals if v not in known)
    for relation in relations.values():
        if relation.parent_oid in relations:
            relations[relation.parent_oid].children.append(relation.oid)
    return Schema(relations)


# --- candidate values ---------------------------------------------------------------------------


def check_literals(expression: str) -> list[str]:
    """Constants a CHECK expression names, and their neighbours for numbers (`n BETWEEN 3 AND 4`
    gives 3, 4, 2, 5; `status IN ('a', 'b')` gives a, b): likely values the check accepts."""
    try:
        tree = parse_sql(f"SELECT {expression}")
    except Exception:  # an unparsable expression only loses the hint
        return []
    found: list[str] = []
    stack: list[object] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, tuple):
            stack.extend(reversed(node))
            continue
        if not isinstance(node, ast.Node):
            continue
        if isinstance(node, ast.A_Const) and not node.isnull:
            value = _literal(node)
            if value is not None and value not in found:
                found.append(value)
            continue
        stack.extend(reversed([getattr(node, a) for a in node if isinstance(getattr(node, a), ast.Node | tuple)]))
    neighbours = []
    for value in found:
        if re.fullmatch(r"-?\d+", value):
            neighbours += [str(int(value) + 1), str(int(value) - 1)]
        elif re.fullmatch(r"-?\d+\.\d+", value):
            neighbours += [str(float(value) + 1), str(float(value) - 1)]
    return found + [v for v in neighbours if v not in found]



def _string_limit(column: Column) -> int | None:
    base = column.base
    if base and base.typname in ("varchar", "bpchar") and column.typmod > 4:
        return column.typmod - 4
    if base and base.typname in ("varchar", "bpchar") and base.base_typmod and base.base_typmod > 4:
        return base.base_typmod - 4
    return None


def candidates(column: Column, seq: int) -> list[str]:
    """Text values of the column's type to try, the row-specific (`seq`) ones first."""
    base = column.base
    if base is None:
        return []
    name, category = base.typname, base.category
    if base.typtype == "e":
        labels = list(base.labels)
        return labels[(seq - 1) % len(labels):] + labels[:(seq - 1) % len(labels)] if labels else []
    if base.typtype == "r":
        sub = {"int4range": ("1", "2"), "int8range": ("1", "2"), "numrange": ("1", "2"),
               "daterange": ("2024-01-01", "2024-01-02"), "tsrange": ("2024-01-01", "2024-01-02"),
               "tstzrange": ("2024-01-01", "2024-01-02")}.get(name)
        return (["empty"] + ([f"[{sub[0]},{sub[1]})"] if sub else []))
    if category == "A":
        return ["{}"]
    if name == "bool":
        return ["true", "false"]
    if name == "uuid":
        return [str(_uuid.UUID(int=seq, version=4)), str(_uuid.UUID(int=seq + 1000, version=4))]
    if name in ("int2", "int4", "int8", "oid"):
        return [str(seq), "1", "0", str(seq + 100), "-1"]
    if category == "N":  # numeric, float, money, reg*
        return [str(seq), "1", "0", "0.5", "-1"]
    if name in ("text", "varchar", "bpchar", "name", "citext") or category == "S":
        limit = _string_limit(column)
        values = [f"p{seq}", str(seq), "a", "x", ""]
        return [v for v in values if limit is None or len(v) <= limit] or ["a"[:limit or 1]]
    if name == "date":
        day = _dt.date(2024, 1, 1) + _dt.timedelta(days=seq)
        return [day.isoformat(), "2000-01-01", "infinity"]
    if name in ("timestamp", "timestamptz"):
        moment = _dt.datetime(2024, 1, 1) + _dt.timedelta(days=seq)
        return [moment.isoformat(sep=" "), "2000-01-01 00:00:00", "infinity"]
    if name in ("time", "timetz"):
        return [f"12:{seq % 60:02d}:00", "00:00:00"]
    if name == "interval":
        return [f"{seq} days", "1 hour"]
    if name in ("json", "jsonb"):
        return ["{}", f'{{"n": {seq}}}', "[]", "1", '"x"']
    if name == "bytea":
        return [f"\\x{seq:04x}", "\\x00"]
    if name == "inet":
        return [f"10.{seq // 65536 % 256}.{seq // 256 % 256}.{seq % 256}", "127.0.0.1"]
    if name == "cidr":
        return [f"10.{seq % 256}.0.0/16", "10.0.0.0/8"]
    if name in ("macaddr", "macaddr8"):
        return ["08:00:2b:01:02:03" if name == "macaddr" else "08:00:2b:01:02:03:04:05"]
    if name in ("bit", "varbit"):
        width = column.typmod if name == "bit" and column.typmod > 0 else 1
        return [("1" + "0" * (width - 1)), "0" * width]
    if name in ("tsvector", "tsquery"):
        return ["a"]
    if name == "xml":
        return ["<a/>"]
    geometry = {"point": "(0,0)", "line": "{1,-1,0}", "lseg": "[(0,0),(1,1)]", "box": "(1,1),(0,0)",
                "path": "[(0,0),(1,1)]", "polygon": "((0,0),(1,1),(1,0))", "circle": "<(0,0),1>"}
    if name in geometry:
        return [geometry[name]]
    return []


def tenant_values(column: Column) -> tuple[str, str]:
    """Two values of the tenant column's type, for tenants A and B."""
    base = column.base
    if base is not None and base.typtype == "e" and len(base.labels) >= 2:
        return base.labels[0], base.labels[1]
    name = base.typname if base else ""
    if name == "uuid":
        return "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
    if base is not None and base.category == "N":
        return "31001", "31002"
    if base is not None and base.category == "S":
        limit = _string_limit(column)
        return ("tenant-a", "tenant-b") if limit is None or limit >= 8 else ("a", "b")
    a, b = candidates(column, 31001), candidates(column, 31002)
    if a and b and a[0] != b[0]:
        return a[0], b[0]
    raise Skipped(f"no two distinct tenant values of type {column.type}")


def _bound_values(schema: Schema, leaf: Relation) -> dict[str, list[str | None]]:
    """Values that put a row into `leaf`, per partition key column, from its bound and its ancestors'."""
    found: dict[str, list[str | None]] = defaultdict(list)
    relation = leaf
    while relation.is_partition and relation.parent_oid in schema.relations:
        parent = schema.relations[relation.parent_oid]
        names = [next((c.name for c in parent.columns if c.attnum == n), None) for n in parent.key_attnums]
        spec = _bound_spec(relation.bound)
        if spec is not None and not spec.is_default and all(names):
            if spec.strategy == "l" and spec.listdatums:
                found[names[0]].extend(_literal(d) for d in spec.listdatums)
            elif spec.strategy == "r":
                for name, lower, upper in zip(names, spec.lowerdatums or (), spec.upperdatums or (), strict=False):
                    if not isinstance(lower, ast.ColumnRef):
                        found[name].append(_literal(lower))
                    elif not isinstance(upper, ast.ColumnRef):
                        found[name].extend(_below(_literal(upper)))
        relation = parent
    return found


def _bound_spec(bound: str | None) -> ast.PartitionBoundSpec | None:
    if not bound:
        return None
    try:
        return parse_sql(f"CREATE TABLE x PARTITION OF y {bound}")[0].stmt.partbound
    except Exception:  # an unparsable bound: the retry loop still tries the generic candidates
        return None


def _literal(node: ast.Node) -> str | None:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_Const):
        if node.isnull:
            return None
        value = node.val
        for attribute in ("sval", "ival", "fval", "boolval", "bsval"):
            if hasattr(value, attribute):
                return str(getattr(value, attribute))
    return None


def _below(upper: str | None) -> list[str]:
    """Values below a range partition's upper bound (for a MINVALUE lower bound)."""
    if upper is None:
        return []
    if re.fullmatch(r"-?\d+", upper):
        return [str(int(upper) - 1)]
    if re.fullmatch(r"-?\d+(\.\d+)?", upper):
        return [str(float(upper) - 1)]
    return ["-infinity", "0001-01-01", ""]


# --- the generator -------------------------------------------------------------------------------


class RowFactory:
    """Inserts generated rows in savepoints of `conn`'s open transaction.

    `tenant_column` rows get the tenant's value; `forced` maps (relation oid, column) to the tenant
    value a parent must hold because children reference it through the tenant column."""

    def __init__(self, conn: psycopg.Connection, schema: Schema, tenant_column: str, tenant_setting: str) -> None:
        self.conn = conn
        self.schema = schema
        self.column = tenant_column
        self.setting = tenant_setting
        self.forced: dict[tuple[int, str], str] = {}  # (leaf, column) -> name of the child tenant column type
        self.nulled: set[tuple[int, str]] = set()  # (relation, fk name) broken to NULL (cycles)
        self.rows: dict[int, dict[str, Row]] = defaultdict(dict)  # leaf -> tenant -> base row
        self.skipped: dict[int, str] = {}  # leaf -> reason
        self._hash_values: dict[tuple[int, str], list[str]] = {}
        self._bounds: dict[int, dict[str, list[str | None]]] = {}

    # --- planning

    def fill(self, targets: Iterable[int]) -> None:
        """Two rows (tenants A and B) in every leaf under `targets` and in every table they reference."""
        leaves = self._closure(targets)
        self._force_tenant_parents(leaves)
        for oid, reason in self._order(leaves):
            if reason:
                self.skipped[oid] = reason
                continue
            for tenant, seq in (("A", 1), ("B", 2)):
                try:
                    self.rows[oid][tenant] = self.generate(oid, tenant, seq, keep=True, adversarial=True)
                except Skipped as error:
                    self.skipped[oid] = str(error)
                    self.rows.pop(oid, None)
                    break

    def _closure(self, targets: Iterable[int]) -> list[int]:
        seen: list[int] = []
        stack = [leaf for target in targets for leaf in self.schema.leaves(target)]
        while stack:
            oid = stack.pop()
            if oid in seen or oid not in self.schema.relations:
                continue
            seen.append(oid)
            for fk in self.schema.relations[oid].foreign_keys:
                if fk.refrelid in self.schema.relations:
                    stack.extend(self.schema.leaves(fk.refrelid))
        return seen

    def _force_tenant_parents(self, leaves: list[int]) -> None:
        for oid in leaves:
            for fk in self.schema.relations[oid].foreign_keys:
                if self.column not in fk.columns or fk.refrelid not in self.schema.relations:
                    continue
                referenced = fk.ref_columns[fk.columns.index(self.column)]
                for parent in self.schema.leaves(fk.refrelid):
                    if referenced != self.column:
                        self.forced[(parent, referenced)] = referenced

    def _order(self, leaves: list[int]) -> list[tuple[int, str | None]]:
        """Parents first; a cycle is broken at a nullable foreign key, else its tables are skipped."""
        depends: dict[int, dict[int, list[ForeignKey]]] = {oid: defaultdict(list) for oid in leaves}
        for oid in leaves:
            for fk in self.schema.relations[oid].foreign_keys:
                for parent in self.schema.leaves(fk.refrelid) if fk.refrelid in self.schema.relations else []:
                    if parent != oid and parent in depends:
                        depends[oid][parent].append(fk)
        ordered: list[tuple[int, str | None]] = []
        remaining = dict(depends)
        while remaining:
            ready = [oid for oid, parents in remaining.items() if not set(parents) & set(remaining)]
            if not ready:
                breakable = [(oid, parent, fks) for oid, parents in sorted(remaining.items())
                             for parent, fks in parents.items() if parent in remaining
                             and all(self._nullable(oid, fk) for fk in fks)]
                if not breakable:
                    names = ", ".join(sorted(self.schema.relations[o].qualified for o in remaining))
                    ordered.extend((oid, f"its foreign keys form a cycle with NOT NULL columns ({names})")
                                   for oid in remaining)
                    break
                oid, parent, fks = breakable[0]
                self.nulled.update((oid, fk.name) for fk in fks)
                del remaining[oid][parent]
                continue
            for oid in sorted(ready, key=lambda o: self.schema.relations[o].qualified):
                ordered.append((oid, None))
                del remaining[oid]
        return ordered

    def _nullable(self, oid: int, fk: ForeignKey) -> bool:
        relation = self.schema.relations[oid]
        return all((c := relation.column(name)) is not None and not c.not_null and name != self.column
                   for name in fk.columns)

    # --- one row

    def parent_row(self, refrelid: int, tenant: str) -> Row | None:
        for leaf in self.schema.leaves(refrelid):
            row = self.rows.get(leaf, {}).get(tenant)
            if row is not None:
                return row
        return None

    def tenant_text(self, oid: int, tenant: str) -> str:
        """The tenant setting's value for rows of `oid` (a leaf or a partitioned table)."""
        for leaf in self.schema.leaves(oid):
            row = self.rows.get(leaf, {}).get(tenant)
            if row is not None and row.values.get(self.column) is not None:
                return row.values[self.column]
        relation = self.schema.relations[oid]
        column = relation.column(self.column)
        if column is None:
            return ""
        return tenant_values(column)[0 if tenant == "A" else 1]

    def generate(self, oid: int, tenant: str, seq: int, *, keep: bool, adversarial: bool = False,
                 overrides: dict[str, str | None] | None = None) -> Row:
        """Insert one row for `tenant` into leaf `oid` (kept, or rolled back when `keep` is false)."""
        relation = self.schema.relations[oid]
        if relation.relkind != "r":
            raise Skipped(f"{relation.qualified} is not a plain table")
        overrides = overrides or {}
        plan = {c.name: self._alternatives(relation, c, tenant, seq, adversarial)
                for c in relation.columns if not c.generated}
        for name, value in overrides.items():
            plan[name] = [value]
        for name, options in plan.items():
            if not options:
                column = relation.column(name)
                raise Skipped(f"no value satisfies column {name} ({column.type if column else '?'})")
        index = dict.fromkeys(plan, 0)
        last_error = ""
        for _ in range(MAX_ATTEMPTS):
            values = {name: plan[name][index[name]] for name in plan}
            try:
                return self._insert(relation, tenant, values, keep)
            except _Retry as retry:
                last_error, culprits = retry.message, retry.columns
            movable = [c for c in culprits if c in plan and index[c] + 1 < len(plan[c])]
            if not movable:
                tried = f" (every candidate value of {', '.join(culprits)} was tried)" if culprits else ""
                raise Skipped(f"PostgreSQL refused the row{tried}: {last_error}")
            column = min(movable, key=lambda c: (index[c], culprits.index(c)))
            index[column] += 1
        raise Skipped(f"no accepted row after {MAX_ATTEMPTS} attempts: {last_error}")

    def _alternatives(self, relation: Relation, column: Column, tenant: str, seq: int,
                      adversarial: bool) -> list[object]:
        other = "B" if tenant == "A" else "A"
        nullable = [None] if not column.not_null else []
        if column.name == self.column:
            return [tenant_values(column)[0 if tenant == "A" else 1]]
        if (relation.oid, column.name) in self.forced:
            return [tenant_values(column)[0 if tenant == "A" else 1]]
        for fk in relation.foreign_keys:
            if column.name not in fk.columns:
                continue
            if (relation.oid, fk.name) in self.nulled or fk.refrelid == relation.oid:
                return nullable
            parent = self.parent_row(fk.refrelid, tenant) if fk.refrelid in self.schema.relations else None
            if parent is None:
                if nullable:
                    return nullable
                target = self.schema.relations.get(fk.refrelid)
                raise Skipped(f"foreign key {fk.name} needs a row in {target.qualified if target else fk.refrelid}, "
                              "which could not be generated")
            return [parent.values.get(fk.ref_columns[fk.columns.index(column.name)])] + nullable
        if relation.oid not in self._bounds:
            self._bounds[relation.oid] = _bound_values(self.schema, relation)
        bound = self._bounds[relation.oid].get(column.name, [])
        if relation.is_partition and not bound:
            bound = self._hash_bound(relation, column)
        options: list[object] = list(bound)
        tenant_column = relation.column(self.column)
        if adversarial and tenant_column is not None and column.base and tenant_column.base \
                and column.base.oid == tenant_column.base.oid and not column.identity:
            # Rows of one tenant carry the other tenant's value in columns of the tenant's type,
            # so a policy keyed on the wrong column shows up as a leak.
            options.append(tenant_values(column)[0 if other == "A" else 1])
        if adversarial and column.base and column.base.typname == "bool":
            options.append("true")  # flags like is_public ORed into a policy
        unique_alone = any(column.name in s and self.column not in s for s in relation.unique_sets)
        if column.identity:
            options.append(OMIT)
        elif column.has_default:
            options.append(OMIT)
        elif not column.not_null and not unique_alone and not options:
            options.append(None)
        typed = candidates(column, seq)
        options.extend(typed[:1] + relation.check_literals.get(column.name, []) + typed[1:])
        options.extend(nullable)
        return list(dict.fromkeys(options))  # keeps order, drops repeats (OMIT and None compare by identity)

    def _hash_bound(self, relation: Relation, column: Column) -> list[str]:
        """Values that hash into a hash partition, found by asking PostgreSQL."""
        parent = self.schema.relations.get(relation.parent_oid)
        spec = _bound_spec(relation.bound)
        if parent is None or spec is None or spec.strategy != "h" or len(parent.key_attnums) != 1:
            return []
        key = next((c for c in parent.columns if c.attnum == parent.key_attnums[0]), None)
        if key is None or key.name != column.name:
            return []
        cache_key = (relation.oid, column.name)
        if cache_key not in self._hash_values:
            pool = [value for seq in range(1, 200) for value in candidates(column, seq)[:1]]
            query = sql.SQL("SELECT v FROM unnest({pool}::text[]) v WHERE satisfies_hash_partition("
                            "{parent}::oid, {modulus}, {remainder}, v::{type}) LIMIT 8").format(
                pool=sql.Literal(list(dict.fromkeys(pool))), parent=sql.Literal(parent.oid),
                modulus=sql.Literal(spec.modulus), remainder=sql.Literal(spec.remainder), type=sql.SQL(column.type))
            try:
                self.conn.execute(f"SAVEPOINT {_SAVEPOINT}_hash")
                found = [r[0] for r in self.conn.execute(query).fetchall()]
                self.conn.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}_hash")
            except psycopg.Error:
                self.conn.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}_hash")
                found = []
            self._hash_values[cache_key] = found
        return self._hash_values[cache_key]

    # --- SQL

    def insert_statement(self, relation: Relation, values: dict[str, object],
                         into: Relation | None = None, returning: bool = True) -> sql.Composed:
        """INSERT of explicit `values` (OMIT left to defaults) into `into` (default: `relation`)."""
        target = into or relation
        explicit = [(name, value) for name, value in values.items() if value is not OMIT]
        returned = [c for c in relation.columns if not c.generated]
        tail = sql.SQL(" RETURNING ARRAY[{}]::text[]").format(
            sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c.name)) for c in returned)
        ) if returning and returned else sql.SQL("")
        if not explicit:
            return sql.SQL("INSERT INTO {} DEFAULT VALUES{}").format(target.identifier, tail)
        overriding = any(any((c := r.column(name)) is not None and c.identity == "a" for r in (relation, target))
                         for name, _ in explicit)
        literals = [sql.NULL if value is None else
                    sql.SQL("CAST({} AS {})").format(sql.Literal(value), sql.SQL(relation.column(name).type))
                    for name, value in explicit]
        return sql.SQL("INSERT INTO {} ({}){} VALUES ({}){}").format(
            target.identifier, sql.SQL(", ").join(sql.Identifier(name) for name, _ in explicit),
            sql.SQL(" OVERRIDING SYSTEM VALUE") if overriding else sql.SQL(""), sql.SQL(", ").join(literals), tail)

    def _insert(self, relation: Relation, tenant: str, values: dict[str, object], keep: bool) -> Row:
        setting = self.tenant_text(relation.oid, tenant) if relation.column(self.column) else \
            self._any_tenant_text(tenant)
        batch = sql.SQL("SAVEPOINT {sp}; SELECT set_config({setting}, {value}, true); {insert}").format(
            sp=sql.Identifier(_SAVEPOINT), setting=sql.Literal(self.setting), value=sql.Literal(setting),
            insert=self.insert_statement(relation, values))
        try:
            with self.conn.cursor() as cur:
                cur.execute(batch)
                while cur.nextset():
                    pass
                returned = cur.fetchone()[0]
        except psycopg.Error as error:
            self.conn.execute(sql.SQL("ROLLBACK TO SAVEPOINT {}").format(sql.Identifier(_SAVEPOINT)))
            raise _Retry(self._culprits(relation, values, error), describe(error)) from None
        self.conn.execute(sql.SQL("{} SAVEPOINT {}").format(sql.SQL("RELEASE" if keep else "ROLLBACK TO"),
                                                            sql.Identifier(_SAVEPOINT)))
        names = [c.name for c in relation.columns if not c.generated]
        overriding = any(relation.column(n).identity == "a" for n, v in values.items() if v is not OMIT)
        return Row(relation.oid, tenant, dict(zip(names, returned or [], strict=False)), overriding)

    def _any_tenant_text(self, tenant: str) -> str:
        for rows in self.rows.values():
            row = rows.get(tenant)
            if row is not None and row.values.get(self.column) is not None:
                return row.values[self.column]
        return "tenant-a" if tenant == "A" else "tenant-b"

    def _culprits(self, relation: Relation, values: dict[str, object], error: psycopg.Error) -> list[str]:
        """The columns to change after `error`, most specific first."""
        diag, state = error.diag, error.sqlstate or ""
        if state == "23502" and diag.column_name:
            return [diag.column_name]
        if state.startswith("23"):
            if diag.constraint_name and diag.constraint_name in relation.constraint_columns:
                return relation.constraint_columns[diag.constraint_name]
            if diag.datatype_name:
                return [c.name for c in relation.columns if diag.datatype_name in c.domains]
            if "partition" in str(error):
                keys = [c.name for ancestor in self.schema.ancestors(relation.oid) for c in ancestor.columns
                        if c.attnum in ancestor.key_attnums]
                return list(dict.fromkeys(keys))
            return []
        if state.startswith("22") or state in ("42804", "42846"):
            return self._bad_casts(relation, values)
        return []

    def _bad_casts(self, relation: Relation, values: dict[str, object]) -> list[str]:
        bad = []
        for name, value in values.items():
            if value is OMIT or value is None:
                continue
            try:
                self.conn.execute(f"SAVEPOINT {_SAVEPOINT}_cast")
                self.conn.execute(sql.SQL("SELECT CAST({} AS {})").format(
                    sql.Literal(value), sql.SQL(relation.column(name).type)))
                self.conn.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}_cast")
            except psycopg.Error:
                self.conn.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}_cast")
                bad.append(name)
        return bad


class _Retry(Exception):
    def __init__(self, columns: Sequence[str], message: str) -> None:
        super().__init__(message)
        self.columns = list(columns)
        self.message = message
