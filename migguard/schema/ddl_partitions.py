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
from collections.abc import Iterable
from dataclasses import dataclass, field

from migguard.core.identifiers import quote_qualified
from migguard.schema.model import Index, SchemaModel, Table


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

    @classmethod
    def of(cls, before: SchemaModel, after: SchemaModel, tables: Iterable[str] | None = None) -> IndexTree:
        """`tables`: the keys of the tables that differ (all when None). The others' indexes cannot be
        created, dropped or changed, nor attached to an index that is: that would change them too."""
        names = list(tables) if tables is not None else None

        def indexes(model: SchemaModel) -> dict[str, tuple[Table, Index]]:
            chosen = model.tables.values() if names is None else [model.tables[k] for k in names if k in model.tables]
            return {index_name(t, name): (t, i) for t in chosen for name, i in t.indexes.items()}

        old, new = indexes(before), indexes(after)
        changed = {name for name in old.keys() & new.keys() if old[name][1].definition != new[name][1].definition}
        children: dict[str, list[tuple[Table, Index]]] = defaultdict(list)
        for table, index in old.values():
            if index.parent:
                children[index.parent].append((table, index))
        return cls(frozenset(new.keys() - old.keys()) | changed, frozenset(old.keys() - new.keys()) | changed,
                   dict(children))

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
        """SQL that recreates and attaches the indexes `parent` had (the reverse of dropping it),
        except those a constraint makes."""
        lines = []
        for table, index in self.children_before.get(parent, []):
            if index.constraint:
                continue
            lines.append(f"{index.definition};")
            lines.append(attach_sql(parent, table, index))
        return "\n".join(lines)


def attach_sql(parent: str, table: Table, index: Index) -> str:
    return f"ALTER INDEX {parent} ATTACH PARTITION {index_name(table, index.name)};"
