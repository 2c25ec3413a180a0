"""The edge rules of `schema/order.py`, each on hand-built models without pg_depend edges and
built so that the order the change builders emit would be wrong: only the rule puts it right.
No database (STYLE 7.3)."""

from migguard.schema.order import DROP, LEAVE, action
from migguard.schema.diff import Change, diff
from migguard.schema.model import (
    Collation, Column, Constraint, Extension, Function, Index, SchemaModel, Statistics, Table,
)

ID = Column(name="id", position=1, type="bigint", nullable=False)


def _table(name: str, schema: str = "public", **columns: Column) -> Table:
    return Table(schema_name=schema, name=name, columns=columns or {"id": ID})


def _model(*tables: Table, **extra) -> SchemaModel:
    schemas = extra.pop("schemas", {"public": "postgres"})
    return SchemaModel(schemas=schemas, tables={t.qualified_name: t for t in tables}, **extra)


def _at(changes: list[Change], kind: str, name: str) -> int:
    """The position of the one change of `kind` on `name`; fails loudly when there is none."""
    found = [i for i, c in enumerate(changes) if c.kind == kind and c.object.startswith(name)]
    assert found, f"no {kind} of {name} in {[(c.kind, c.object) for c in changes]}"
    return found[0]


def test_a_schema_is_dropped_after_the_objects_in_it():
    """Schemas are built first: containment alone puts DROP SCHEMA after its table."""
    before = _model(_table("t", schema="app"), schemas={"public": "postgres", "app": "postgres"})
    changes = diff(before, _model())
    assert _at(changes, "drop table", "app.t") < _at(changes, "drop schema", "app")


def test_a_collation_is_dropped_after_the_column_that_names_it():
    """pg_depend's edges to a collation are not read: the structural edge (a column uses the
    collation it names) drops it after the table, though collations are built first."""
    german = Collation(schema_name="public", name="german", provider="icu", locale="de-DE")
    title = Column(name="title", position=2, type="text", collation="german")
    changes = diff(_model(_table("people", id=ID, title=title), collations={"public.german": german}), _model())
    assert _at(changes, "drop table", "public.people") < _at(changes, "drop collation", "public.german")


def test_an_extension_is_created_before_and_dropped_after_everything_else():
    citext = Extension(name="citext", schema_name="public", version="1.6")
    email = Column(name="email", position=2, type="public.citext")
    with_it = _model(_table("users", id=ID, email=email), extensions={"citext": citext})
    created = diff(_model(), with_it)
    assert _at(created, "create extension", "citext") < _at(created, "create table", "public.users")
    dropped = diff(with_it, _model())
    assert _at(dropped, "drop table", "public.users") < _at(dropped, "drop extension", "citext")


def test_statistics_are_dropped_before_their_table():
    """Statistics name their table only in their definition; dropped with the table, they could not go after it."""
    stats = Statistics(schema_name="public", name="s", definition="CREATE STATISTICS public.s ON id, n FROM public.t")
    n = Column(name="n", position=2, type="integer")
    changes = diff(_model(_table("t", id=ID, n=n), statistics={"public.s": stats}), _model())
    assert _at(changes, "drop statistics", "public.s") < _at(changes, "drop table", "public.t")


def test_a_foreign_key_is_added_after_the_key_it_references_and_after_its_own_tables_indexes():
    """`a_child` is built before `z_parent`: the foreign-key rule holds its constraint back."""
    pkey = Constraint(name="z_parent_pkey", kind="primary", definition="PRIMARY KEY (id)", columns=("id",))
    parent = _table("z_parent").model_copy(update={"constraints": {pkey.name: pkey}})
    fk = Constraint(name="a_child_parent_fkey", kind="foreign", columns=("parent",), references="public.z_parent",
                    definition="FOREIGN KEY (parent) REFERENCES public.z_parent(id)")
    lookup = Index(name="a_child_parent_idx", definition="CREATE INDEX a_child_parent_idx ON public.a_child (parent)",
                   columns=("parent",))
    child = _table("a_child", id=ID, parent=Column(name="parent", position=2, type="bigint")).model_copy(
        update={"constraints": {fk.name: fk}, "indexes": {lookup.name: lookup}})
    changes = diff(_model(), _model(child, parent))
    added = _at(changes, "add constraint", "public.a_child.a_child_parent_fkey")
    assert _at(changes, "add constraint", "public.z_parent.z_parent_pkey") < added
    assert _at(changes, "create index", "public.a_child_parent_idx") < added


def test_a_new_functions_grants_follow_its_create_and_a_dropped_ones_revokes_precede_its_drop():
    new = Function(schema_name="public", name="fresh", arguments="", returns="integer", grants={"reader": ("EXECUTE",)},
                   definition="CREATE FUNCTION public.fresh() RETURNS integer LANGUAGE sql AS 'select 1'")
    old = Function(schema_name="public", name="stale", arguments="", returns="integer", grants={"reader": ("EXECUTE",)},
                   definition="CREATE FUNCTION public.stale() RETURNS integer LANGUAGE sql AS 'select 1'")
    changes = diff(_model(functions={old.signature: old}), _model(functions={new.signature: new}))
    created, dropped = _at(changes, "create function", "public.fresh()"), _at(changes, "drop function", "public.stale()")
    grants = [i for i, c in enumerate(changes) if c.object.startswith("public.fresh()") and c.kind in ("grant", "revoke")]
    revokes = [i for i, c in enumerate(changes) if c.object.startswith("public.stale()") and c.kind in ("grant", "revoke")]
    assert grants and revokes
    assert all(created < i for i in grants) and all(i < dropped for i in revokes)
    assert all(action(changes[i]) == LEAVE for i in revokes) and action(changes[dropped]) == DROP


def test_where_no_edge_decides_teardown_goes_first_then_the_order_as_built():
    """Two unrelated tables: the drop of `b` (built after `a`'s new column) runs first."""
    note = Column(name="note", position=2, type="text")
    before = _model(_table("a"), _table("b", id=ID, note=note))
    after = _model(_table("a", id=ID, note=note), _table("b"))
    assert [(c.kind, c.object) for c in diff(before, after)] == [("drop column", "public.b.note"),
                                                                  ("add column", "public.a.note")]


def test_a_partitions_index_is_dropped_before_its_parents_column_takes_it_along():
    """The parent is built first; the table-structure rule looks up the partition's parents."""
    x = Column(name="x", position=2, type="integer")
    parent = _table("p", id=ID, x=x).model_copy(update={"partition_key": "LIST (id)", "kind": "partitioned table"})
    local = Index(name="c_x_idx", definition="CREATE INDEX c_x_idx ON public.c USING btree (x)", columns=("x",))
    child = _table("c", id=ID, x=x).model_copy(update={"partition_of": "public.p", "partition_bound": "FOR VALUES IN (1)",
                                                       "indexes": {local.name: local}})
    after = (parent.model_copy(update={"columns": {"id": ID}}), child.model_copy(update={"columns": {"id": ID},
                                                                                         "indexes": {}}))
    changes = diff(_model(parent, child), _model(*after))
    assert _at(changes, "drop index", "public.c_x_idx") < _at(changes, "drop column", "public.p.x")
