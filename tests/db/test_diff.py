"""diff() model against model: no database (STYLE 7.3)."""

from migguard.db.diff import diff, forward_script, reverse_script
from migguard.db.schema import Column, Constraint, EnumType, Index, Policy, SchemaModel, Table


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
    assert change.forward == "ALTER TYPE public.mood ADD VALUE 'ok' BEFORE 'happy';" and change.reverse is None


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
