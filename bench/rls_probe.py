"""Time the RLS catalog audit and the two-tenant isolation probe on a generated tenant schema.

    python bench/rls_probe.py [--tables 100] [--major 16] [--roles 1] [--repeat 3]

Starts an ephemeral cluster (`migguard.pg.cluster`, the bundled server unless `--major` picks
another installation), creates a schema of `--tables` multi-tenant tables — mixed column types
(enum, domain with CHECK, jsonb, numeric with CHECK, timestamptz default, boolean), one in five
referencing the previous one through a composite foreign key, one in ten list-partitioned into
two partitions, one in twenty with a defect (a global unique key, RLS not forced) — plus the
tenants table and a security_invoker view per ten tables, then prints the audit's and the
probe's wall time (best and median of `--repeat` runs) with their phases and the findings by
rule. It asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from migguard.pg.cluster import Cluster, available_binaries  # noqa: E402
from migguard.rls.audit import audit  # noqa: E402
from migguard.rls.probe import probe  # noqa: E402

KEYED = "tenant_id = current_setting('app.tenant_id')::uuid"


def schema_sql(tables: int, roles: list[str]) -> str:
    grantees = ", ".join(roles)
    lines = [
        "CREATE SCHEMA bench;",
        f"GRANT USAGE ON SCHEMA bench TO {grantees};",
        "CREATE TABLE bench.tenants (id uuid PRIMARY KEY, name text NOT NULL);",
        "CREATE TYPE bench.status AS ENUM ('draft', 'open', 'closed');",
        "CREATE DOMAIN bench.sku AS text CHECK (length(VALUE) BETWEEN 2 AND 12);",
    ]
    for i in range(1, tables + 1):
        name = f"bench.t{i:03d}"
        columns = [
            "id bigint GENERATED ALWAYS AS IDENTITY",
            "tenant_id uuid NOT NULL REFERENCES bench.tenants (id)",
            "title text NOT NULL",
            "status bench.status NOT NULL DEFAULT 'draft'",
            "sku bench.sku NOT NULL",
            "amount numeric(12, 2) NOT NULL CHECK (amount >= 0)",
            "payload jsonb NOT NULL DEFAULT '{}'",
            "created_at timestamptz NOT NULL DEFAULT now()",
            "archived boolean NOT NULL DEFAULT false",
        ]
        partitioned = i % 10 == 0
        if partitioned:
            columns.append("region text NOT NULL")
            columns.append("PRIMARY KEY (tenant_id, id, region)")
        else:
            columns.append("PRIMARY KEY (tenant_id, id)")
        if i % 5 == 0 and i > 1 and (i - 1) % 10 != 0:
            columns.append("parent_id bigint NOT NULL")
            columns.append(f"FOREIGN KEY (tenant_id, parent_id) REFERENCES bench.t{i - 1:03d} (tenant_id, id)")
        if i % 20 == 7:
            columns.append("email text NOT NULL UNIQUE")  # defect: a global unique key
        lines.append(f"CREATE TABLE {name} ({', '.join(columns)})"
                     + (" PARTITION BY LIST (region)" if partitioned else "") + ";")
        parts = [f"{name}_eu", f"{name}_us"] if partitioned else []
        for part, region in zip(parts, ("eu", "us"), strict=False):
            lines.append(f"CREATE TABLE {part} PARTITION OF {name} FOR VALUES IN ('{region}');")
        for relation in [name, *parts]:
            lines.append(f"ALTER TABLE {relation} ENABLE ROW LEVEL SECURITY;")
            if i % 20 != 13:  # defect: RLS not forced
                lines.append(f"ALTER TABLE {relation} FORCE ROW LEVEL SECURITY;")
            lines.append(f"CREATE POLICY tenant_isolation ON {relation} USING ({KEYED}) WITH CHECK ({KEYED});")
            lines.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {relation} TO {grantees};")
        if i % 10 == 1:
            lines.append(f"CREATE VIEW bench.v{i:03d} WITH (security_invoker = true) AS "
                         f"SELECT id, tenant_id, title FROM {name};")
            lines.append(f"GRANT SELECT ON bench.v{i:03d} TO {grantees};")
    return "\n".join(lines)


def timed(function, repeat: int):
    durations, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        durations.append(time.perf_counter() - started)
    return durations, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=100)
    parser.add_argument("--major", type=int, default=None, help="PostgreSQL major (default: the bundled one)")
    parser.add_argument("--roles", type=int, default=1, help="application roles to probe as")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    installations = [b for b in available_binaries() if args.major in (None, b.major)]
    if not installations:
        sys.exit(f"no PostgreSQL {args.major or ''} server binaries found")
    binaries = installations[0]
    roles = [f"bench_app{n}" for n in range(1, args.roles + 1)]
    with Cluster(binaries) as cluster:
        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE bench")
            for role in roles:
                admin.execute(f"CREATE ROLE {role} NOLOGIN")
        url = cluster.url("bench")
        started = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(schema_sql(args.tables, roles))
            relations = conn.execute("SELECT count(*) FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
                                     "WHERE a.attname = 'tenant_id' AND c.relkind IN ('r', 'p')").fetchone()[0]
        build = time.perf_counter() - started

        audits, audit_result = timed(lambda: audit(url, app_roles=roles), args.repeat)
        probes, probe_result = timed(lambda: probe(url, app_roles=roles), args.repeat)

    print(f"PostgreSQL {binaries.major} ({binaries.source}); {args.tables} tables ({relations} multi-tenant "
          f"relations incl. partitions); {len(roles)} application role(s); schema built in {build:.2f} s")
    for label, durations, result in (("audit", audits, audit_result), ("probe", probes, probe_result)):
        phases = ", ".join(f"{k} {v:.3f}" for k, v in result.timings.items())
        print(f"{label}: best {min(durations):.3f} s, median {statistics.median(durations):.3f} s "
              f"over {len(durations)} run(s)  [last run phases (s): {phases}]")
        counts = Counter(f"{f.rule} ({f.severity})" for f in result.findings)
        for rule, count in sorted(counts.items()):
            print(f"    {count:4d}  {rule}")


if __name__ == "__main__":
    main()
