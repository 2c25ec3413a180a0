"""Rules made with CREATE RULE (issue 10, item 4): introspected, diffed, reversed, seen as drift.

A rule can turn every INSERT into a table into a DELETE somewhere else, and before this it was
invisible to the schema model: a migration that adds one showed no change, and production having
one the migrations lack was no drift.
"""

import json
import os

import psycopg
import pytest

from migguard.pg.introspect import introspect
from migguard.schema.diff import diff, forward_script, reverse_script
from migguard.schema.model import RewriteRule, SchemaModel
from tests.clirun import run_cli

TABLES = """
CREATE TABLE victim (id int PRIMARY KEY);
CREATE TABLE t (id int PRIMARY KEY, amount int);
CREATE TABLE log (amount int);
CREATE VIEW v AS SELECT id FROM t;
"""
DELETING = "CREATE RULE r AS ON INSERT TO t DO ALSO DELETE FROM victim"


def _execute(url: str, script: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute(script)


@pytest.mark.pg
def test_a_rule_is_introspected_diffed_and_reversed(pg):
    _execute(pg, TABLES)
    before = introspect(pg)
    assert before.rules == {}  # a view's own _RETURN rule is the view, not a rule
    _execute(pg, DELETING)
    after = introspect(pg)
    (rule,) = after.rules.values()
    assert (rule.schema_name, rule.table, rule.name, rule.enabled) == ("public", "t", "r", "O")
    assert "DELETE FROM public.victim" in rule.definition and after.fingerprint() != before.fingerprint()

    (change,) = diff(before, after)
    assert (change.kind, change.object, change.path) == ("create rule", "public.t.r", ("public", "t", "r"))
    assert change.destructive and change.reverse == "DROP RULE r ON public.t;"
    _execute(pg, reverse_script([change])[0])
    assert diff(introspect(pg), before) == []
    _execute(pg, forward_script([change]))
    assert diff(introspect(pg), after) == []
    _execute(pg, "INSERT INTO victim VALUES (1), (2); INSERT INTO t VALUES (1, 1)")
    with psycopg.connect(pg) as conn:  # the recreated rule is the same rule: it deletes
        assert conn.execute("SELECT count(*) FROM victim").fetchone()[0] == 0


@pytest.mark.pg
def test_a_replaced_disabled_or_dependent_rule_runs_forward_and_back(pg):
    _execute(pg, TABLES + "CREATE RULE audit AS ON INSERT TO t DO ALSO INSERT INTO log VALUES (new.amount);")
    before = introspect(pg)
    _execute(pg, "CREATE OR REPLACE RULE audit AS ON INSERT TO t DO ALSO INSERT INTO log VALUES (new.amount * 2);"
                 "ALTER TABLE t DISABLE RULE audit;"
                 "CREATE RULE keep_v AS ON DELETE TO v DO INSTEAD NOTHING;")
    after = introspect(pg)
    changes = diff(before, after)
    assert [(c.kind, c.object) for c in changes] == [("drop rule", "public.t.audit"), ("replace rule", "public.t.audit"),
                                                     ("create rule", "public.v.keep_v")]
    assert "DISABLE RULE audit" in changes[1].forward
    assert not changes[1].destructive and changes[2].destructive  # INSERT into a log is not; INSTEAD is
    _execute(pg, reverse_script(changes)[0])
    assert diff(introspect(pg), before) == []
    _execute(pg, forward_script(changes))
    assert diff(introspect(pg), after) == []

    # A column a rule reads cannot change type under it: the rule is dropped first and recreated after.
    _execute(pg, "ALTER TABLE t DISABLE RULE audit; DROP RULE audit ON t; ALTER TABLE t ALTER COLUMN amount TYPE bigint;"
                 "CREATE RULE audit AS ON INSERT TO t DO ALSO INSERT INTO log VALUES (new.amount * 2);"
                 "ALTER TABLE t DISABLE RULE audit;")
    retyped = introspect(pg)
    changes = diff(after, retyped)
    # (view v reads t.id only, as pg_depend says: it and the rule on it stay)
    assert [(c.kind, c.object) for c in changes] == [
        ("drop rule", "public.t.audit"), ("alter column type", "public.t.amount"),
        ("recreate dependent rule", "public.t.audit")]
    _execute(pg, reverse_script(changes)[0])
    assert diff(introspect(pg), after) == []
    _execute(pg, forward_script(changes))
    assert diff(introspect(pg), retyped) == []


def test_a_rule_that_only_logs_is_not_destructive_and_one_that_updates_is():
    def rule(action: str) -> SchemaModel:
        definition = f"CREATE RULE r AS\n    ON INSERT TO public.t DO {action};"
        return SchemaModel(rules={"public.t.r": RewriteRule(schema_name="public", table="t", name="r",
                                                            definition=definition)})
    assert not diff(SchemaModel(), rule(" INSERT INTO public.log (amount) VALUES (new.amount)"))[0].destructive
    assert diff(SchemaModel(), rule(" UPDATE public.victim SET id = 0"))[0].destructive
    assert diff(SchemaModel(), rule("INSTEAD NOTHING"))[0].destructive


# --- through the CLI: plan shows the change, apply refuses it without the flag, status shows drift ---


@pytest.fixture
def project(tmp_path, pg, pg_cluster):
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    (tmp_path / "migguard.toml").write_text('[tool.migguard]\nmigrations = "db/migrations"\npg_version = 15\n')
    (tmp_path / "db" / "migrations" / "0001_tables.sql").write_text("SET lock_timeout = '2s';\n" + TABLES)
    env = {**os.environ, "PG_PROD_URL": pg, "PG_SHADOW_URL": pg_cluster.url(), "MIGGUARD_USER": "tester"}
    return tmp_path, env


def migguard(project, *args: str):
    return run_cli(args, cwd=project[0], env=project[1])


@pytest.mark.pg
@pytest.mark.e2e
@pytest.mark.all_majors
def test_a_rule_in_a_migration_is_a_destructive_change_and_one_in_production_is_drift(project, pg):
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    _execute(pg, "INSERT INTO victim SELECT generate_series(1, 5)")
    (project[0] / "db" / "migrations" / "0002_rule.sql").write_text(f"SET lock_timeout = '2s';\n{DELETING};\n")
    plan = migguard(project, "plan", "--continue-on-error", "--format", "json")  # lint refuses it too
    assert any(f["rule"] == "ban-rule-with-dml" for f in json.loads(plan.stdout)["findings"]), plan.stdout
    changes = json.loads(plan.stdout)["summary"]["plan"]["changes"]
    assert "create rule public.t.r (destructive)" in changes, plan.stdout + plan.stderr
    refused = migguard(project, "apply", "--confirm-live")
    assert refused.returncode == 1 and "ban-rule-with-dml" in refused.stderr, refused.stderr
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT count(*) FROM pg_rules WHERE schemaname = 'public'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM victim").fetchone()[0] == 5

    (project[0] / "db" / "migrations" / "0002_rule.sql").unlink()
    _execute(pg, "CREATE RULE hidden AS ON UPDATE TO t DO ALSO DELETE FROM victim")  # by hand, in production
    status = migguard(project, "status", "--format", "json")
    assert status.returncode == 1 and json.loads(status.stdout)["drift"] == ["create rule public.t.hidden (destructive)"]
