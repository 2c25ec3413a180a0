"""Equality finds the objects that differ; deepdiff names the fields that changed (pure model tests)."""

from __future__ import annotations

import json

from migguard.schema.changes import CATEGORIES, differing, field_changes
from migguard.schema.diff import diff
from migguard.schema.model import Column, Function, SchemaModel, Table
from tests.clirun import run_cli


def _table(name: str = "invoices", **columns: Column) -> Table:
    return Table(schema_name="public", name=name, columns=columns)


def _model(*tables: Table, **rest) -> SchemaModel:
    return SchemaModel(tables={t.qualified_name: t for t in tables}, **rest)


AMOUNT = Column(name="amount", position=1, type="integer", nullable=False, default="0")
NOTE = Column(name="note", position=2, type="text")


def test_equality_ignores_column_positions_and_dict_order_but_not_a_field():
    table = _table(amount=AMOUNT, note=NOTE)
    moved = _table(amount=AMOUNT.model_copy(update={"position": 7}), note=NOTE)
    assert table != moved and not table.differs(moved) and not moved.differs(table)  # a position is not compared
    reordered = Table(schema_name="public", name="invoices",
                      columns={"note": NOTE.model_copy(update={"position": 1}),
                               "amount": AMOUNT.model_copy(update={"position": 2})})
    assert not table.differs(reordered) and not reordered.differs(table)
    retyped = _table(amount=AMOUNT.model_copy(update={"type": "bigint"}), note=NOTE)
    assert retyped.differs(table) and table.differs(retyped)


def test_a_copy_with_its_owner_as_the_connecting_role_is_made_afresh_for_the_copy():
    table = _table(amount=AMOUNT).model_copy(update={"owner": "app"})
    relative = table.owned_by_connecting_role  # cached now
    copy = table.model_copy(update={"comment": "billing"})
    assert copy.owned_by_connecting_role.comment == "billing" and relative.comment is None
    assert copy.owned_by_connecting_role.differs(relative) and not relative.differs(table.owned_by_connecting_role)


def test_differing_names_only_the_changed_objects():
    kept, changed = _table("kept", amount=AMOUNT), _table(amount=AMOUNT)
    before = _model(kept, changed, schemas={"public": "app"})
    after = _model(kept, changed.model_copy(update={"rls_enabled": True}), _table("new", note=NOTE),
                   schemas={"public": "owner2"})
    assert differing(before, after) == {"tables": {"public.invoices", "public.new"}, "schemas": {"public"}}
    assert differing(before, before) == {}


def test_each_change_names_its_own_fields():
    before = _model(_table(amount=AMOUNT))
    after = _model(_table(amount=AMOUNT.model_copy(update={"type": "bigint", "default": None, "nullable": True})))
    lines = [c.describe() for c in diff(before, after)]
    assert lines == [
        "alter column type public.invoices.amount: type integer → bigint",
        "alter column default public.invoices.amount: default 0 → none",
        "drop not null public.invoices.amount: nullable false → true",
    ]


def test_table_fields_and_grants_are_named_by_key():
    before = _model(_table(amount=AMOUNT).model_copy(update={"grants": {"anon": ("SELECT",)}}))
    after = _model(_table(amount=AMOUNT).model_copy(update={"grants": {"anon": ("INSERT", "SELECT")},
                                                            "rls_enabled": True}))
    lines = [c.describe() for c in diff(before, after)]
    assert "enable row level security public.invoices: rls_enabled false → true" in lines
    assert "grant public.invoices to anon: grants.anon (SELECT) → (INSERT, SELECT)" in lines


def test_created_objects_and_long_values_are_not_printed():
    body = "CREATE OR REPLACE FUNCTION public.f()\n RETURNS integer\n LANGUAGE sql\nAS $function$select 1$function$\n"
    old = Function(schema_name="public", name="f", arguments="", returns="integer", definition=body)
    new = old.model_copy(update={"definition": body.replace("select 1", "select 2"), "volatility": "stable"})
    assert [text for _, text in field_changes(old, new)] == ["volatility volatile → stable", "definition changed"]
    created = diff(_model(), _model(_table(amount=AMOUNT)))
    assert created[0].describe() == "create table public.invoices"


def test_diff_command_prints_the_fields(tmp_path):
    before = _model(_table(amount=AMOUNT))
    after = _model(_table(amount=AMOUNT.model_copy(update={"type": "bigint"})))
    for name, model in (("a.json", before), ("b.json", after)):
        (tmp_path / name).write_text(model.to_json(), encoding="utf-8")
    result = run_cli(["diff", "a.json", "b.json"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "-- alter column type public.invoices.amount: type integer → bigint [ACCESS EXCLUSIVE]" in result.stdout
    result = run_cli(["diff", "a.json", "b.json", "--format", "json"], cwd=tmp_path)
    assert json.loads(result.stdout)["changes"][0]["kind"] == "alter column type"


def test_every_category_of_the_model_is_compared():
    """A category left out of CATEGORIES would make its objects invisible to every diff."""
    assert set(CATEGORIES) == set(SchemaModel.model_fields) - {"server_version", "connecting_roles", "dependencies"}
