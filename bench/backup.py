"""Backup overhead: migguard's backup (pg_dump -Fc, then pg_restore --list and SHA-256 of the
archive) against a plain `pg_dump -Fc` of the same database, on an ephemeral cluster.

Usage: python bench/backup.py [--size-mb 1024]. Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from migguard.apply.backup import take_backup
from migguard.pg.cluster import Cluster, choose_binaries
from migguard.pg.tools import client_for


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=1024, help="database size to generate (default 1024)")
    args = parser.parse_args()
    binaries = choose_binaries()
    work = Path(tempfile.mkdtemp(prefix="migguard-bench-backup-"))
    with Cluster(binaries) as cluster:
        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE bench")
        url = cluster.url("bench")
        started = time.monotonic()
        rows = args.size_mb * 1024 * 1024 // 130  # ~130 bytes per row on disk with this layout
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE events (id bigint PRIMARY KEY, tenant_id int NOT NULL, body text NOT NULL, "
                         "at timestamptz NOT NULL)")
            conn.execute("INSERT INTO events SELECT g, g %% 100, md5(g::text) || md5((g * 7)::text), "
                         "now() - g * interval '1 second' FROM generate_series(1, %s) g", (rows,))
            conn.execute("CREATE TABLE tenants AS SELECT g AS id, 'tenant ' || g AS name FROM generate_series(1, 100) g")
            conn.execute("VACUUM ANALYZE")
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        print(f"database: {size / 1e9:.2f} GB ({rows:,} rows), generated in {time.monotonic() - started:.1f} s "
              f"on PostgreSQL {binaries.major} ({binaries.source})")

        client = client_for(binaries.major)
        plain = work / "plain.dump"
        started = time.monotonic()
        subprocess.run([client.program("pg_dump"), "--format=custom", "--file", str(plain), "--dbname", url],
                       check=True)
        plain_seconds = time.monotonic() - started
        print(f"plain pg_dump -Fc:        {plain_seconds:7.2f} s  ({plain.stat().st_size / 1e6:,.0f} MB)")

        backup = take_backup(url, work / "migguard", "0" * 64)
        print(f"migguard backup:          {backup.seconds:7.2f} s  ({backup.path.stat().st_size / 1e6:,.0f} MB; "
              "pg_dump -Fc + pg_restore --list + sha256)")
        print(f"ratio migguard / pg_dump: {backup.seconds / plain_seconds:7.2f}x  (SPEC target: within 1.2x)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
