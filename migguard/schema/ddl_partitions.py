"""Partitioned indexes: which index of a partition is attached to which index of its parent, and
the SQL that keeps that tree when indexes come and go.

PostgreSQL ties a partition's index to its parent's (pg_inherits between indexes): `CREATE INDEX
… ON ONLY parent` makes the parent's index, each partition's index is made on its own and joined
with `ALTER INDEX parent_index ATTACH PARTITION partition_index` (what pg_dump prints). Dropping the
parent's index drops every attached one; an attached index cannot be dropped or detached alone;
`CREATE TABLE … PARTITION OF` makes the partition's indexes for the parent's existing ones. So a
change of the tree is read across tables, once per diff (`IndexTree`). Pure: no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from migguard.core.identifiers import quote_ident, quote_qualified
from migguard.schema.model import Constraint, Index, SchemaModel, Table


def index_name(table: Table, index: str) -> str:
    """An index's qualified name as SQL, as regclass text prints it (`Index.parent`)."""
    return quote_qualified(table.schema_name, index)


@dataclass(frozen=True)
class IndexTree:
    """The indexes a diff creates and drops (qualified SQL names), and each parent index's
    attached indexes before the change."""

    created: frozenset[str] = frozenset()
    dropped: frozenset[str] = frozenset()
    children_before: dict[str, list[tuple[Table, Index]]] = field(default_factory=dict)
    # a parent index's kept indexes that this diff attaches to it, as they were before
    adopted: dict[str, list[tuple[Table, Index]]] = field(default_factory=dict)
    # each kept parent index's indexes of kept partitions this diff attaches to it (sorted names)
    newly_attached: dict[str, list[str]] = field(default_factory=dict)
    indexes_before: dict[str, tuple[Table, Index]] = field(default_factory=dict)

    @classmethod
    def of(cls, before: SchemaModel, after: SchemaModel) -> IndexTree:
        """Read from partitioned tables and partitions only: a kept parent's index belongs to the tree
        even when its table does not differ (a partition of it may attach its index to it)."""

        def indexes(model: SchemaModel) -> dict[str, tuple[Table, Index]]:
            return {index_name(t, name): (t, i) for t in model.tables.values() if t.partition_key or t.partition_of
                    for name, i in t.indexes.items()}

        old, new = indexes(before), indexes(after)
        # an index made anew: its definition changes, or it turns into a constraint's or back
        changed = {name for name in old.keys() & new.keys()
                   if (old[name][1].definition, old[name][1].constraint) != (new[name][1].definition, new[name][1].constraint)}
        children: dict[str, list[tuple[Table, Index]]] = defaultdict(list)
        for table, index in old.values():
            if index.parent:
                children[index.parent].append((table, index))
        adopted: dict[str, list[tuple[Table, Index]]] = defaultdict(list)
        for name, (_, index) in new.items():
            kept = old.get(name)
            if index.parent and kept and kept[1].parent != index.parent and kept[1].definition == index.definition \
                    and kept[1].constraint == index.constraint:
                adopted[index.parent].append(kept)
        created = frozenset(new.keys() - old.keys()) | changed
        attached: dict[str, list[str]] = defaultdict(list)
        for name, (table, index) in sorted(new.items()):
            was = before.tables.get(table.qualified_name)
            if index.parent and index.parent in old and index.parent not in created and was is not None \
                    and was.partition_of == table.partition_of and (name not in old or old[name][1].parent != index.parent):
                attached[index.parent].append(name)
        return cls(created, frozenset(old.keys() - new.keys()) | changed, dict(children), dict(adopted), dict(attached),
                   old)

    def goes_with_parent(self, index: Index | None) -> bool:
        """An attached index whose parent index this diff drops: it goes with the parent."""
        return index is not None and index.parent is not None and index.parent in self.dropped

    def made_by_partition_of(self, table: Table, index: Index) -> bool:
        """A new partition's index that `CREATE TABLE … PARTITION OF` makes itself: attached to a
        parent index that exists before and after."""
        return bool(table.partition_of and index.parent and index.parent not in self.created
                    and index.parent not in self.dropped)

    def needs_attach(self, table: Table, old: Index | None, new: Index) -> bool:
        """Whether `new` (an index of `table`, kept or new) must be attached to its parent index."""
        if new.parent is None:
            return False
        name = index_name(table, new.name)
        return (old is None or old.parent != new.parent or name in self.created or new.parent in self.created
                or self.goes_with_parent(old))

    def restore_children(self, parent: str) -> str:
        """SQL that recreates and attaches the indexes `parent` had (the reverse of dropping it):
        a constraint's index by its constraint, added to the partition alone."""
        lines = []
        for table, index in self.children_before.get(parent, []):
            if made := _index_sql(table, index):
                lines += [made, attach_sql(parent, table, index)]
        return "\n".join(lines)

    def undone_by_parent(self, table: Table, index: Index | None) -> bool:
        """An index of `table` this diff attaches to a parent index that the rollback drops (a new
        one) or rebuilds (`unattach_sql`): it goes with the parent then, never alone."""
        if index is None or index.parent is None:
            return False
        return index.parent in self.created or index_name(table, index.name) in self.newly_attached.get(index.parent, ())

    def unattach_sql(self, table: Table, index: Index) -> str:
        """The reverse of attaching `index` to a kept parent index: PostgreSQL cannot detach it, so
        the parent is dropped (its attached indexes or constraints with it) and made again as it
        was, with the indexes attached to it before. Once per parent: on its first new child."""
        attached = self.newly_attached.get(index.parent or "", [])
        if not attached or attached[0] != index_name(table, index.name):
            return ""
        parent_table, parent = self.indexes_before[index.parent]
        constraint = parent_table.constraints.get(parent.constraint) if parent.constraint else None
        if parent.constraint and constraint is None:
            return ""
        if constraint:
            lines = [f"ALTER TABLE {quote_qualified(parent_table.schema_name, parent_table.name)} DROP CONSTRAINT "
                     f"{quote_ident(constraint.name)};", add_constraint_sql(parent_table, constraint)]
        else:
            lines = [f"DROP INDEX {index.parent};", f"{parent.definition};"]
        return "\n".join(filter(None, [*lines, self.restore_children(index.parent), self.restore_adopted(index.parent)]))

    def restore_adopted(self, parent: str) -> str:
        """SQL that puts back the kept indexes (or their constraints) this diff attaches to
        `parent`: dropping `parent` in the rollback drops them with it."""
        lines = []
        for table, index in self.adopted.get(parent, []):
            if made := _index_sql(table, index):
                lines += [made, attach_sql(index.parent, table, index)] if index.parent else [made]
        return "\n".join(lines)

    def constraint_goes_with_parent(self, table: Table, constraint: Constraint | None) -> bool:
        """A partition's constraint whose index is attached to a parent index this diff drops."""
        return constraint is not None and self.goes_with_parent(constraint_index(table, constraint))

    def constraint_made_by_partition_of(self, table: Table, constraint: Constraint | None) -> bool:
        """A new partition's constraint that `CREATE TABLE … PARTITION OF` makes with its index."""
        index = constraint_index(table, constraint) if constraint is not None else None
        return index is not None and self.made_by_partition_of(table, index)

    def constraint_goes_back_with_parent(self, table: Table, constraint: Constraint) -> bool:
        """A partition's new constraint whose index this diff attaches to a parent index: the
        rollback drops (or rebuilds) the parent's, and this one with it (it cannot go alone)."""
        return self.undone_by_parent(table, constraint_index(table, constraint))


def constraint_index(table: Table, constraint: Constraint) -> Index | None:
    """The index behind a primary key, unique or exclusion constraint of `table`."""
    return next((i for i in table.indexes.values() if i.constraint == constraint.name), None)


def alone(table: Table, constraint: Constraint) -> bool:
    """Whether the constraint is added to the table alone (`ALTER TABLE ONLY`), as pg_dump does on
    a partitioned table and a partition: each partition's own constraint is added apart, its
    index attached to the parent's, so that every name is the target's."""
    return constraint.kind in ("primary", "unique", "exclusion") and bool(table.partition_key or table.partition_of)


def add_constraint_sql(table: Table, constraint: Constraint) -> str:
    only = "ONLY " if alone(table, constraint) else ""
    return f"ALTER TABLE {only}{quote_qualified(table.schema_name, table.name)} ADD CONSTRAINT " \
           f"{quote_ident(constraint.name)} {constraint.definition};"


def attach_sql(parent: str, table: Table, index: Index) -> str:
    return f"ALTER INDEX {parent} ATTACH PARTITION {index_name(table, index.name)};"


def _index_sql(table: Table, index: Index) -> str:
    """SQL that makes `index` again: its constraint's ADD CONSTRAINT (on the table alone), or its
    definition; "" for a constraint's index whose constraint the table no longer holds."""
    if not index.constraint:
        return f"{index.definition};"
    constraint = table.constraints.get(index.constraint)
    return add_constraint_sql(table, constraint) if constraint else ""
