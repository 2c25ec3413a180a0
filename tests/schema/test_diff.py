"""diff() model against model: no database (STYLE 7.3)."""

from migguard.schema.diff import diff, forward_script, reverse_script
from migguard.schema.model import (
    Column, Constraint, EnumType, Function, Index, Policy, SchemaModel, Sequence, Table, View,
)


def _table(name="users", **columns: Column) -> Table:
    cols = columns or {"id": Column(name="id", position=1, type="bigint", nullable=False)}
    return Table(schema_name="public", name=name, columns=cols)


def _model(*tables: Table, **extra) -> SchemaModel:
    return SchemaModel(schemas={"public": "postgres"}, tables={t.qualified_name: t for t in tables}, **extra)


ID = Column(name="id", position=1, type="bigint", nullable=False)
EMAIL = Column(name="email", position=2, type="text", nullable=False, default="''::text", comment="login")


def test_identical_models_have_no_changes():
    model = _model(_table(id=ID, email=EMAIL))
    assert diff(model, model) == []


def test_add_column_forward_and_reverse():
    (change,) = diff(_model(_table(id=ID)), _model(_table(id=ID, email=EMAIL)))[:1]
    assert change.kind == "add column" and change.object == "public.users.email"
    assert change.forward == "ALTER TABLE public.users ADD COLUMN email text DEFAULT ''::text NOT NULL;"
    assert change.reverse == "ALTER TABLE public.users DROP COLUMN email;"
    assert not change.destructive and change.lock == "ACCESS EXCLUSIVE"


def test_drop_column_is_destructive_lossy_and_reversed_from_the_before_model():
    changes = diff(_model(_table(id=ID, email=EMAIL)), _model(_table(id=ID)))
    (change,) = changes
    assert change.kind == "drop column" and change.destructive and change.lossy
    assert "ADD COLUMN email text DEFAULT ''::text NOT NULL;" in change.reverse
    assert "COMMENT ON COLUMN public.users.email IS 'login';" in change.reverse
    script, irreversible = reverse_script(changes)
    assert "not its data" in script and irreversible == []


def test_type_nullability_default_changes():
    before = _model(_table(id=ID, email=EMAIL))
    changed = EMAIL.model_copy(update={"type": "character varying(320)", "nullable": True, "default": None})
    kinds = [c.kind for c in diff(before, _model(_table(id=ID, email=changed)))]
    assert kinds == ["alter column type", "alter column default", "drop not null"]


def test_create_table_orders_foreign_keys_after_all_tables():
    tenants = _table("tenants", id=ID)
    fk = Constraint(name="users_tenant_fk", kind="foreign", definition="FOREIGN KEY (tenant_id) REFERENCES public.tenants(id)",
                    columns=("tenant_id",), references="public.tenants")
    users = _table("users", id=ID, tenant_id=Column(name="tenant_id", position=2, type="bigint", nullable=False))
    users = users.model_copy(update={"constraints": {fk.name: fk}})
    forward = forward_script(diff(_model(), _model(users, tenants)))
    fk_at = forward.index("ADD CONSTRAINT users_tenant_fk")
    assert forward.index("CREATE TABLE public.users") < fk_at and forward.index("CREATE TABLE public.tenants") < fk_at


def test_dropping_tables_drops_foreign_keys_first():
    tenants = _table("tenants", id=ID)
    fk = Constraint(name="a_fk", kind="foreign", definition="FOREIGN KEY (id) REFERENCES public.tenants(id)",
                    columns=("id",), references="public.tenants")
    users = _table("a_users", id=ID).model_copy(update={"constraints": {fk.name: fk}})
    changes = diff(_model(users, tenants), _model())
    assert [c.kind for c in changes] == ["drop constraint", "drop table", "drop table"]
    rollback, _ = reverse_script(changes)
    assert rollback.index("CREATE TABLE public.tenants") < rollback.index("ADD CONSTRAINT a_fk")


def test_enum_values_keep_their_position():
    before = _model(enums={"public.mood": EnumType(schema_name="public", name="mood", values=("sad", "happy"))})
    after = _model(enums={"public.mood": EnumType(schema_name="public", name="mood", values=("sad", "ok", "happy"))})
    (change,) = diff(before, after)
    assert change.forward == "ALTER TYPE public.mood ADD VALUE 'ok' BEFORE 'happy';"
    # PostgreSQL cannot remove a value: the rollback recreates the type as it was
    assert change.reverse == ("ALTER TYPE public.mood RENAME TO mood__migguard_old;\n"
                              "CREATE TYPE public.mood AS ENUM ('sad', 'happy');\nDROP TYPE public.mood__migguard_old;")


def test_an_added_enum_value_the_new_schema_uses_recreates_the_type():
    # ADD VALUE's value cannot be used in its own transaction ("unsafe use of new value")
    mood = EnumType(schema_name="public", name="mood", values=("sad", "happy"))
    grown = mood.model_copy(update={"values": ("sad", "ok", "happy")})
    column = Column(name="mood", position=2, type="public.mood")
    defaulted = column.model_copy(update={"default": "'ok'::public.mood"})
    changes = diff(_model(_table(id=ID, mood=column), enums={"public.mood": mood}),
                   _model(_table(id=ID, mood=defaulted), enums={"public.mood": grown}))
    assert [c.kind for c in changes] == ["recreate type", "alter column default"]
    assert "ADD VALUE" not in forward_script(changes)
    assert changes[0].forward.splitlines()[:3] == [
        "ALTER TYPE public.mood RENAME TO mood__migguard_old;", "CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');",
        "ALTER TABLE public.users ALTER COLUMN mood TYPE public.mood USING mood::text::public.mood;"]
    unused = diff(_model(_table(id=ID, mood=column), enums={"public.mood": mood}),
                  _model(_table(id=ID, mood=column), enums={"public.mood": grown}))
    assert [c.kind for c in unused] == ["add enum value"]


def test_a_number_retyped_to_a_timestamp_converts_through_text():
    # no cast between bigint and timestamp (pg_cast); a numeric type change keeps its own cast
    seen = Column(name="seen", position=2, type="bigint")
    stamped = seen.model_copy(update={"type": "timestamp(3) without time zone"})
    (change,) = diff(_model(_table(id=ID, seen=seen)), _model(_table(id=ID, seen=stamped)))
    assert change.forward == ("ALTER TABLE public.users ALTER COLUMN seen TYPE timestamp(3) without time zone "
                              "USING seen::text::timestamp(3) without time zone;")
    assert change.reverse == "ALTER TABLE public.users ALTER COLUMN seen TYPE bigint USING seen::text::bigint;"
    (widened,) = diff(_model(_table(id=ID, seen=seen)), _model(_table(id=ID, seen=seen.model_copy(update={"type": "numeric"}))))
    assert widened.forward == "ALTER TABLE public.users ALTER COLUMN seen TYPE numeric USING seen::numeric;"


def test_rls_policies_and_index_changes():
    policy = Policy(name="tenant_isolation", command="all", using="(tenant_id = 1)")
    index = Index(name="users_email_idx", definition="CREATE INDEX users_email_idx ON public.users USING btree (email)")
    before = _model(_table(id=ID, email=EMAIL))
    after_table = _table(id=ID, email=EMAIL).model_copy(update={
        "rls_enabled": True, "rls_forced": True, "policies": {policy.name: policy}, "indexes": {index.name: index}})
    changes = diff(before, _model(after_table))
    kinds = [c.kind for c in changes]
    assert kinds == ["create index", "enable row level security", "force row level security", "create policy"]
    assert changes[-1].forward == ("CREATE POLICY tenant_isolation ON public.users AS PERMISSIVE FOR ALL TO public "
                                   "USING ((tenant_id = 1));")
    disabling = diff(_model(after_table), before)
    assert {c.kind for c in disabling if c.destructive} == {"disable row level security", "no force row level security",
                                                            "drop policy"}


def test_quoting_of_identifiers():
    odd = Column(name="Weird Name", position=2, type="text")
    (change,) = diff(_model(_table(id=ID)), _model(_table(id=ID, **{"Weird Name": odd})))
    assert 'ADD COLUMN "Weird Name" text;' in change.forward
    user = Column(name="user", position=2, type="text")
    (change,) = diff(_model(_table(id=ID)), _model(_table(id=ID, user=user)))
    assert 'ADD COLUMN "user" text;' in change.forward


def test_a_dropped_not_null_column_comes_back_with_a_placeholder_default():
    plan = Column(name="plan", position=2, type="text", nullable=False)
    (change,) = diff(_model(_table(id=ID, plan=plan)), _model(_table(id=ID)))
    assert change.reverse == ("ALTER TABLE public.users ADD COLUMN plan text DEFAULT '' NOT NULL;  -- placeholder values "
                              "until the backup restores the data\nALTER TABLE public.users ALTER COLUMN plan DROP DEFAULT;")


# --- found replaying real histories (tests/schema/test_corpus_round_trip.py) -----------------------


def _function(name: str, returns: str = "text", body: str = "SELECT 'x'") -> Function:
    definition = (f"CREATE OR REPLACE FUNCTION public.{name}(n integer)\n RETURNS {returns}\n LANGUAGE sql\n"
                  f"AS $function$ {body} $function$\n")
    return Function(schema_name="public", name=name, arguments="n integer", returns=returns, definition=definition)


def test_a_function_a_default_calls_is_created_before_the_table():
    token = Column(name="token", position=2, type="text", default="public.random_string(32)")
    random_string, rows = _function("random_string"), _function("all_users", "SETOF public.users", "SELECT * FROM public.users")
    # as pg_depend records them: the default calls random_string, all_users returns the table's rows
    edges = ((("column", "public", "users", "token"), ("function", "public", "random_string(n integer)")),
             (("function", "public", "all_users(n integer)"), ("table", "public", "users")))
    after = _model(_table(id=ID, token=token), functions={f.signature: f for f in (random_string, rows)},
                   dependencies=edges)
    forward = forward_script(diff(_model(), after))
    assert forward.index("FUNCTION public.random_string") < forward.index("CREATE TABLE public.users")
    assert forward.index("CREATE TABLE public.users") < forward.index("FUNCTION public.all_users")  # its row type
    assert "SET check_function_bodies = off;" in forward  # bodies may read tables created later


def test_a_type_change_keeps_an_unchanged_default_and_user_types_convert_through_text():
    role = Column(name="role", position=2, type='public."ProjectRole"', nullable=False, default="'MEMBER'::public.\"ProjectRole\"")
    retyped = role.model_copy(update={"type": 'public."Role"'})
    (change,) = diff(_model(_table(id=ID, role=role)), _model(_table(id=ID, role=retyped)))
    assert change.forward.splitlines() == [
        "ALTER TABLE public.users ALTER COLUMN role DROP DEFAULT;",
        'ALTER TABLE public.users ALTER COLUMN role TYPE public."Role" USING role::text::public."Role";',
        "ALTER TABLE public.users ALTER COLUMN role SET DEFAULT 'MEMBER'::public.\"ProjectRole\";",
    ]


def test_a_type_and_default_change_reverses_the_default_with_the_type():
    token = Column(name="token", position=2, type="text", default="public.random_string(32)")
    changed = token.model_copy(update={"type": "bytea", "default": "public.random_bytes(32)"})
    changes = diff(_model(_table(id=ID, token=token)), _model(_table(id=ID, token=changed)))
    assert [c.kind for c in changes] == ["alter column type", "alter column default"]
    rollback, irreversible = reverse_script(changes)
    assert rollback.count("SET DEFAULT public.random_string(32)") == 1 and not irreversible
    assert rollback.index("TYPE text") < rollback.index("SET DEFAULT public.random_string(32)")


def test_a_unique_constraint_replaced_by_an_index_of_the_same_name():
    unique = Constraint(name="users_email_key", kind="unique", definition="UNIQUE (email)", columns=("email",))
    backing = Index(name="users_email_key", definition="CREATE UNIQUE INDEX users_email_key ON public.users USING btree (email)",
                    unique=True, columns=("email",), constraint="users_email_key")
    plain = backing.model_copy(update={"constraint": None})
    before = _table(id=ID, email=EMAIL).model_copy(update={"constraints": {unique.name: unique}, "indexes": {backing.name: backing}})
    after = _table(id=ID, email=EMAIL).model_copy(update={"indexes": {plain.name: plain}})
    changes = diff(_model(before), _model(after))
    assert [c.kind for c in changes] == ["drop constraint", "create index"]
    assert reverse_script(changes)[0].splitlines() == ["DROP INDEX public.users_email_key;",
                                                       "ALTER TABLE public.users ADD CONSTRAINT users_email_key UNIQUE (email);"]


def test_views_reading_views_drop_first_and_come_back_last():
    inner = View(schema_name="public", name="a_inner", definition=" SELECT users.id\n   FROM public.users;")
    outer = View(schema_name="public", name="b_outer", definition=" SELECT a_inner.id\n   FROM public.a_inner;")
    changed = inner.model_copy(update={"definition": " SELECT users.id, 1 AS one\n   FROM public.users;"})
    edges = ((("view", "public", "a_inner"), ("column", "public", "users", "id")),
             (("view", "public", "b_outer"), ("view", "public", "a_inner")))  # as pg_depend records them
    before = _model(_table(id=ID), views={"public.a_inner": inner, "public.b_outer": outer}, dependencies=edges)
    after = _model(_table(id=ID), views={"public.a_inner": changed, "public.b_outer": outer}, dependencies=edges)
    forward = forward_script(diff(before, after))
    assert forward.index("DROP VIEW public.b_outer") < forward.index("DROP VIEW public.a_inner")
    assert forward.index("CREATE VIEW public.a_inner") < forward.index("CREATE VIEW public.b_outer")


def test_a_renamed_table_frees_its_index_names_before_the_new_table_takes_them():
    pkey = Constraint(name="mod_sticky_post_pkey", kind="primary", definition="PRIMARY KEY (id)", columns=("id",))
    index = Index(name="mod_sticky_post_pkey", definition="CREATE UNIQUE INDEX mod_sticky_post_pkey ON public.x USING btree (id)",
                  unique=True, columns=("id",), constraint=pkey.name)
    serial = ID.model_copy(update={"default": "nextval('public.mod_sticky_post_id_seq'::regclass)"})
    old = _table("mod_sticky_post", id=serial).model_copy(update={"constraints": {pkey.name: pkey}, "indexes": {index.name: index}})
    new = old.model_copy(update={"name": "mod_feature_post"})
    sequence = Sequence(schema_name="public", name="mod_sticky_post_id_seq", owned_by="public.mod_sticky_post.id")
    moved = sequence.model_copy(update={"owned_by": "public.mod_feature_post.id"})
    changes = diff(_model(old, sequences={sequence.qualified_name: sequence}),
                   _model(new, sequences={moved.qualified_name: moved}))
    forward = forward_script(changes)
    detach = forward.index("ALTER SEQUENCE public.mod_sticky_post_id_seq OWNED BY NONE;")
    assert detach < forward.index("DROP TABLE public.mod_sticky_post;") < forward.index("CREATE TABLE public.mod_feature_post")
    # owned by the new column once it exists (an edge of the after-model: the sequence uses its column)
    assert forward.index("CREATE TABLE public.mod_feature_post") < forward.index("OWNED BY public.mod_feature_post.id;")
    rollback, _ = reverse_script(changes)
    assert rollback.index("DROP TABLE public.mod_feature_post;") < rollback.index("CREATE TABLE public.mod_sticky_post")


def test_comments_of_a_new_tables_columns_and_constraints_are_kept():
    check = Constraint(name="email_short", kind="check", definition="CHECK ((length(email) < 320))", comment="RFC 5321")
    users = _table(id=ID, email=EMAIL).model_copy(update={"constraints": {check.name: check}})
    changes = diff(_model(), _model(users))
    forward = forward_script(changes)
    assert "COMMENT ON COLUMN public.users.email IS 'login';" in forward
    assert "COMMENT ON CONSTRAINT email_short ON public.users IS 'RFC 5321';" in forward
    assert reverse_script(changes) == ("DROP TABLE public.users;\n", [])
    added = diff(_model(_table(id=ID)), _model(_table(id=ID, email=EMAIL)))
    assert reverse_script(added)[1] == []  # the comment goes with the column: nothing irreversible


def test_a_new_table_takes_back_default_privileges_before_its_own_grants():
    granted = _table("grants", id=ID).model_copy(update={"grants": {"anon": ("SELECT",), "service_role": ("SELECT",)}})
    new = _table("uploads", id=ID).model_copy(update={"grants": {"anon": ("SELECT",)}})
    forward = forward_script(diff(_model(granted), _model(granted, new)))
    revoke = forward.index("REVOKE ALL ON TABLE public.uploads FROM anon, service_role;")
    assert revoke < forward.index("GRANT SELECT ON TABLE public.uploads TO anon;")


def test_an_expression_index_over_a_retyped_column_is_recreated():
    index = Index(name="ordering_idx", definition="CREATE INDEX ordering_idx ON public.users USING btree (COALESCE(rerun_of, id) DESC)",
                  columns=("COALESCE(rerun_of, id)",))
    rerun = Column(name="rerun_of", position=2, type="integer")
    before = _table(id=ID, rerun_of=rerun).model_copy(update={"indexes": {index.name: index}})
    after = _table(id=ID, rerun_of=rerun.model_copy(update={"type": "bigint"})).model_copy(update={"indexes": {index.name: index}})
    # the columns its expression reads, as the catalog records them (pg/catalog SCHEMA_DEPENDENCY_EDGES_SQL)
    edges = tuple((("index", "public", "ordering_idx"), ("column", "public", "users", c)) for c in ("id", "rerun_of"))
    kinds = [c.kind for c in diff(_model(before, dependencies=edges), _model(after, dependencies=edges))]
    assert kinds == ["drop index", "alter column type", "create index"]
    assert [c.kind for c in diff(_model(before), _model(after))] == ["alter column type"]  # no edge, nothing read


def test_functions_are_created_after_and_dropped_before_the_functions_they_call():
    """A SQL-standard body is bound at creation: what it calls must exist (pg-schema-diff's
    function__create-function-with-dependencies), whatever the names' order."""
    from migguard.schema.model import Function

    def function(schema: str, name: str, body: str) -> Function:
        definition = (f"CREATE OR REPLACE FUNCTION {schema}.{name}(a integer)\n RETURNS integer\n LANGUAGE sql\n"
                      f"RETURN {body}\n")
        return Function(schema_name=schema, name=name, arguments="a integer", definition=definition)

    caller, callee = function("public", "caller", "zeta.add(a, 1)"), function("zeta", "add", "(a + 1)")
    functions = {f.signature: f for f in (caller, callee)}
    edges = ((("function", "public", "caller(a integer)"), ("function", "zeta", "add(a integer)")),)  # pg_depend's
    changes = diff(_model(), _model(functions=functions, dependencies=edges))
    assert [c.object for c in changes if c.kind == "create function"] == [callee.signature, caller.signature]
    back = diff(_model(functions=functions, dependencies=edges), _model())
    assert [c.object for c in back if c.kind == "drop function"] == [caller.signature, callee.signature]
