"""scan-app and `migguard query` share one tenant-scope analysis (`migguard.sql.tenant_scope`, issue 11 item 8):
the same SELECTs through both give the same verdict. scan-app knows the tenant tables from its configuration,
query from production's catalog; here both are told the same tables (bookings, users have the tenant column;
tenants does not)."""

from __future__ import annotations

import pytest

from migguard.query.check import Relation, analyse
from migguard.scan.scanner import Tenancy, sql_problems, sql_trees
from migguard.sql import tenant_scope

TENANCY = Tenancy(frozenset({"bookings", "users"}))
CATALOG = {
    '"bookings"': Relation("public.bookings", "r", has_tenant=True, rls_active=False),
    '"public"."bookings"': Relation("public.bookings", "r", has_tenant=True, rls_active=False),
    '"users"': Relation("public.users", "r", has_tenant=True, rls_active=False),
    '"tenants"': Relation("public.tenants", "r", has_tenant=False, rls_active=False),
}

SCOPED = [
    "SELECT * FROM bookings i WHERE i.tenant_id IS NOT DISTINCT FROM $1",
    "SELECT * FROM bookings WHERE tenant_id = $1",
    "SELECT * FROM bookings b WHERE b.tenant_id::text = $1 AND b.id > 3",
    "SELECT * FROM public.bookings WHERE 'a' = bookings.tenant_id",
    "SELECT * FROM bookings WHERE tenant_id IN ('a', 'b')",
    "SELECT * FROM bookings WHERE tenant_id = ANY($1)",
    "SELECT * FROM bookings WHERE tenant_id = current_setting('app.tenant_id')::uuid",
    "SELECT * FROM bookings WHERE tenant_id IN (SELECT id FROM tenants WHERE slug = 'acme')",
    "SELECT * FROM bookings b WHERE b.tenant_id = 'a' OR b.tenant_id = 'b'",
    "SELECT * FROM bookings b JOIN users u ON u.tenant_id = b.tenant_id WHERE b.tenant_id = $1",
    "SELECT * FROM bookings b JOIN users u USING (tenant_id) WHERE tenant_id = $1",
    "SELECT * FROM bookings b WHERE b.tenant_id = $1 AND EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = b.tenant_id)",
    "WITH mine AS (SELECT * FROM bookings WHERE tenant_id = $1) SELECT * FROM mine",
    "WITH bookings AS (SELECT * FROM bookings WHERE tenant_id = $1) SELECT * FROM bookings",
    "WITH RECURSIVE r AS (SELECT id FROM bookings WHERE tenant_id = $1 UNION SELECT id FROM r) SELECT * FROM r",
    "SELECT b.* FROM bookings b JOIN tenants t ON t.id = b.tenant_id WHERE t.slug = $1",
    "SELECT count(*) FROM tenants",
]
UNSCOPED = [
    "SELECT * FROM bookings",
    "SELECT * FROM bookings WHERE tenant_id <> 'a'",
    "SELECT * FROM bookings WHERE tenant_id = 'a' OR id > 0",
    "SELECT * FROM bookings b WHERE b.tenant_id = b.tenant_id",
    "SELECT * FROM bookings b WHERE b.tenant_id = lower(b.note)",
    "SELECT * FROM bookings b WHERE b.tenant_id IN (b.owner_tenant)",
    "SELECT * FROM bookings b, users u WHERE b.tenant_id = $1",
    "SELECT * FROM bookings b LEFT JOIN users u ON u.tenant_id = $1",
    "SELECT * FROM bookings b FULL JOIN users u ON u.tenant_id = b.tenant_id WHERE b.tenant_id = $1",
    "SELECT * FROM bookings UNION ALL SELECT * FROM bookings WHERE tenant_id = $1",
    "WITH x AS (SELECT * FROM bookings) SELECT * FROM x WHERE tenant_id = $1",
    # A CTE does not see itself (without RECURSIVE): its body reads the table of that name.
    "WITH bookings AS (SELECT * FROM bookings) SELECT * FROM bookings WHERE tenant_id = $1",
    "WITH a AS (SELECT * FROM users), users AS (SELECT * FROM a WHERE tenant_id = $1) SELECT * FROM users",
    "SELECT (SELECT count(*) FROM users) FROM bookings WHERE tenant_id = $1",
]


def scan_verdict(sql: str) -> bool:
    trees = sql_trees(sql)
    assert trees is not None, sql
    return not [p for tree in trees for p in sql_problems(tree, TENANCY)]


def query_verdict(sql: str) -> bool:
    return not analyse(sql, "tenant_id", {1: "t-1"}).tenant_problems(CATALOG, None, "reader")


@pytest.mark.parametrize("sql, scoped", [(sql, True) for sql in SCOPED] + [(sql, False) for sql in UNSCOPED])
def test_scan_app_and_query_agree(sql, scoped):
    assert scan_verdict(sql) is scoped
    assert query_verdict(sql) is scoped


def test_query_records_the_tenant_values_it_filtered_on():
    analysis = analyse("SELECT * FROM bookings b JOIN users u USING (tenant_id) WHERE b.tenant_id = $1::uuid "
                       "AND u.tenant_id IN ('x', (SELECT 'y'))", "tenant_id", {1: "t-1"})
    assert analysis.tenant_problems(CATALOG, None, "reader") == []
    assert sorted(analysis.filter_values) == ["(subquery)", "t-1", "x"]


def test_references_name_each_use_of_a_tenant_table():
    tree = tenant_scope.parse("UPDATE bookings SET x = 1 WHERE id = 2; INSERT INTO users (id) VALUES (1);"
                              "DELETE FROM bookings WHERE tenant_id = $1")
    found = [(r.written, r.action, r.constrained) for t in tree
             for r in tenant_scope.TenantScope(t, lambda table: table.name in ("bookings", "users"),
                                               lambda name: name == "tenant_id", "tenant_id").references()]
    assert found == [("bookings", "update", False), ("users", "insert", False), ("bookings", "delete", True)]
