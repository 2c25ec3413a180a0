"""Ownership by the role each side was read as is not a difference (SPEC 5.4, issue 11 item 5):
the shadow replays as its own role, production is read as the role migguard connects as."""

from migguard.schema.diff import diff
from migguard.schema.model import CONNECTING_ROLE, Function, SchemaModel, Table, View


def model(role: str | None, owner: str, schema_owner: str | None = None) -> SchemaModel:
    return SchemaModel(
        connecting_roles=(role,) if role else (),
        schemas={"public": "pg_database_owner", "app": schema_owner or owner},
        tables={"app.items": Table(schema_name="app", name="items", owner=owner)},
        views={"app.recent": View(schema_name="app", name="recent", definition=" SELECT 1;", owner=owner)},
        functions={"app.f()": Function(schema_name="app", name="f", arguments="", owner=owner, definition="x")},
    )


def test_objects_owned_by_each_sides_connecting_role_do_not_differ():
    shadow, production = model("postgres", "postgres"), model("app_owner", "app_owner")
    assert diff(shadow, production) == []
    assert diff(production, shadow) == []
    assert shadow.fingerprint() == production.fingerprint()


def test_the_clone_keeps_productions_owner_names_and_its_new_objects_are_the_shadows():
    """apply's verify: the plan's schema-after is the clone (read as the shadow's role) where the
    objects production had keep production's owner and the migrations' new ones are the shadow's."""
    after = model("postgres", "app_owner")
    after = after.model_copy(update={"tables": {**after.tables, "app.new": Table(
        schema_name="app", name="new", owner="postgres")}})
    production = model("app_owner", "app_owner")
    production = production.model_copy(update={"tables": {**production.tables, "app.new": Table(
        schema_name="app", name="new", owner="app_owner")}})
    assert diff(after, production) == []


def test_a_clone_read_as_the_shadows_role_stands_for_productions_role_when_told():
    """Drift between a replay and a clone of production, both on the shadow: the clone keeps
    production's owner names, the replay has the shadow's."""
    replay, clone = model("postgres", "postgres"), model("postgres", "app_owner")
    assert {c.kind for c in diff(replay, clone)} >= {"alter table owner", "alter schema owner"}
    assert diff(replay, clone.also_read_as("app_owner")) == []
    assert clone.also_read_as("app_owner").also_read_as("app_owner").connecting_roles == ("postgres", "app_owner")


def test_an_owner_that_is_not_the_connecting_role_is_still_a_difference():
    shadow, production = model("postgres", "postgres"), model("app_owner", "someone_else")
    changes = diff(shadow, production)
    owners = [c for c in changes if c.kind in ("alter table owner", "alter schema owner")]
    assert [(c.kind, c.object) for c in owners] == [("alter schema owner", "app"), ("alter table owner", "app.items")]
    table = owners[1]
    assert table.forward.endswith('OWNER TO someone_else;')
    assert table.reverse.endswith("OWNER TO CURRENT_USER;")  # back to the role that runs the rollback
    assert {c.kind for c in changes} >= {"replace function", "create view"}  # views, functions compare too
    assert shadow.fingerprint() != production.fingerprint()


def test_a_model_read_without_a_role_compares_owners_by_name():
    assert diff(model(None, "a"), model(None, "a")) == []
    assert [c.kind for c in diff(model(None, "a"), model(None, "b")) if "owner" in c.kind] == [
        "alter schema owner", "alter table owner"]


def test_the_connecting_role_survives_a_json_round_trip_and_is_not_compared():
    saved = model("postgres", "postgres")
    loaded = SchemaModel.from_json(saved.to_json())
    assert loaded.connecting_roles == ("postgres",)
    assert "connecting_roles" not in saved.comparable()
    assert saved.comparable()["tables"]["app.items"]["owner"] == CONNECTING_ROLE
