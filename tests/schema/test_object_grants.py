"""Grants on schemas, sequences, functions and types: each change is reported, applied and reversed
exactly (pure model tests, then on a real PostgreSQL)."""

from __future__ import annotations

import pytest

from migguard.schema.diff import diff, forward_script, reverse_script
from migguard.schema.model import EnumType, Function, SchemaModel, Sequence
from tests.schema.roundtrip_kit import round_trip_both_ways

F = Function(schema_name="public", name="total", arguments="tenant bigint", returns="bigint",
             definition="CREATE OR REPLACE FUNCTION public.total(tenant bigint)\n RETURNS bigint\n LANGUAGE sql\n"
                        "AS $function$select 1$function$\n", grants={"public": ("EXECUTE",)})


def test_a_revoked_execute_is_a_revoke_change_not_a_replaced_function():
    locked = F.model_copy(update={"grants": {"app_reader": ("EXECUTE",)}})
    changes = diff(SchemaModel(functions={"public.total(tenant bigint)": F}),
                   SchemaModel(functions={"public.total(tenant bigint)": locked}))
    assert [(c.describe(), c.forward, c.reverse) for c in changes] == [
        ("grant public.total(tenant bigint) to app_reader: grants.app_reader none → (EXECUTE)",
         "GRANT EXECUTE ON FUNCTION public.total(tenant bigint) TO app_reader;",
         "REVOKE EXECUTE ON FUNCTION public.total(tenant bigint) FROM app_reader;"),
        ("revoke public.total(tenant bigint) from public: grants.public (EXECUTE) → none",
         "REVOKE EXECUTE ON FUNCTION public.total(tenant bigint) FROM PUBLIC;",
         "GRANT EXECUTE ON FUNCTION public.total(tenant bigint) TO PUBLIC;"),
    ]


def test_a_created_object_starts_from_its_kinds_default_privileges():
    mood = EnumType(schema_name="public", name="mood", values=("ok",), grants={})  # PUBLIC's USAGE revoked
    seq = Sequence(schema_name="public", name="ticket_no", grants={"app_writer": ("UPDATE", "USAGE")})
    script = forward_script(diff(SchemaModel(), SchemaModel(enums={"public.mood": mood},
                                                            sequences={"public.ticket_no": seq})))
    assert "REVOKE USAGE ON TYPE public.mood FROM PUBLIC;" in script
    assert "GRANT UPDATE, USAGE ON SEQUENCE public.ticket_no TO app_writer;" in script
    assert script.index("CREATE TYPE public.mood") < script.index("REVOKE USAGE ON TYPE public.mood")


def test_a_dropped_objects_grants_come_back_with_it():
    seq = Sequence(schema_name="public", name="ticket_no", grants={"app_writer": ("USAGE",)})
    changes = diff(SchemaModel(sequences={"public.ticket_no": seq}), SchemaModel())
    rollback, _ = reverse_script(changes)
    assert rollback.index("CREATE SEQUENCE public.ticket_no") < rollback.index(
        "GRANT USAGE ON SEQUENCE public.ticket_no TO app_writer;")


ROLE = "DO $$ BEGIN CREATE ROLE mg_grants_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;\n"
BASE = ROLE + """
CREATE SCHEMA app;
CREATE SEQUENCE app.ticket_no;
CREATE TYPE app.mood AS ENUM ('sad', 'happy');
CREATE DOMAIN app.positive AS integer CHECK (VALUE > 0);
CREATE FUNCTION app.total(tenant bigint) RETURNS bigint LANGUAGE sql AS $$ SELECT tenant $$;
"""

CASES = {
    "schema": "GRANT USAGE, CREATE ON SCHEMA app TO mg_grants_reader;",
    "sequence": "GRANT USAGE, SELECT ON SEQUENCE app.ticket_no TO mg_grants_reader;",
    "function": "REVOKE EXECUTE ON FUNCTION app.total(bigint) FROM PUBLIC;\n"
                "GRANT EXECUTE ON FUNCTION app.total(bigint) TO mg_grants_reader;",
    "type": "REVOKE USAGE ON TYPE app.mood FROM PUBLIC;\nGRANT USAGE ON TYPE app.mood TO mg_grants_reader;",
    "domain": "REVOKE USAGE ON DOMAIN app.positive FROM PUBLIC;",
    "function recreated": """DROP FUNCTION app.total(bigint);
                             CREATE FUNCTION app.total(tenant bigint) RETURNS numeric LANGUAGE sql AS $$ SELECT 1.5 $$;
                             REVOKE EXECUTE ON FUNCTION app.total(bigint) FROM PUBLIC;
                             GRANT EXECUTE ON FUNCTION app.total(bigint) TO mg_grants_reader;""",
    "created": """CREATE SCHEMA reports;
                  GRANT USAGE ON SCHEMA reports TO mg_grants_reader;
                  CREATE FUNCTION reports.secret() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
                  REVOKE EXECUTE ON FUNCTION reports.secret() FROM PUBLIC;""",
}


@pytest.mark.pg
@pytest.mark.parametrize("case", CASES)
def test_round_trip_on_postgresql(pg_cluster, case):
    changes = round_trip_both_ways(pg_cluster, BASE, BASE + CASES[case])
    assert {c.kind for c in changes} & {"grant", "revoke"}, [c.describe() for c in changes]


def test_a_recreated_function_gets_its_grants_again_both_ways():
    locked = F.model_copy(update={"grants": {"app_reader": ("EXECUTE",)}})
    wider = locked.model_copy(update={"returns": "numeric", "definition": F.definition.replace("bigint\n", "numeric\n")})
    changes = diff(SchemaModel(functions={"public.total(tenant bigint)": locked}),
                   SchemaModel(functions={"public.total(tenant bigint)": wider}))
    script, (rollback, _) = forward_script(changes), reverse_script(changes)
    grant = "GRANT EXECUTE ON FUNCTION public.total(tenant bigint) TO app_reader;"
    revoke_public = "REVOKE EXECUTE ON FUNCTION public.total(tenant bigint) FROM PUBLIC;"
    assert script.index("DROP FUNCTION public.total(tenant bigint);") < script.index(grant)
    assert script.index("DROP FUNCTION public.total(tenant bigint);") < script.index(revoke_public)
    assert rollback.rindex("DROP FUNCTION public.total(tenant bigint);") < rollback.rindex(grant)
    assert rollback.rindex("DROP FUNCTION public.total(tenant bigint);") < rollback.rindex(revoke_public)
