"""migguard killed (SIGKILL) mid-wave, then run again: every target ends with each migration applied
exactly once (the history and the migration's own row say so), the re-run resumes instead of
starting over, through the real CLI on real PostgreSQL."""

import signal

import pytest

from tests.apply.livekit import migguard, query, start
from tests.fleet.rolloutkit import CREATE_ITEMS, fleet_databases, fleet_project, history

pytestmark = [pytest.mark.pg, pytest.mark.e2e]

NAMES = ["k1", "k2"]
# Its effect shows how often it ran: a second run would fail on the primary key, or add a row.
SEED = CREATE_ITEMS + "INSERT INTO items VALUES (1, 1);\n"


def test_killed_mid_wave_then_rerun_applies_everything_once(tmp_path, pg_cluster):
    with fleet_databases(pg_cluster, NAMES) as urls:
        project = fleet_project(tmp_path, urls, pg_cluster.url(), wave_size=2, parallel=1,
                                migrations={"0001_items.sql": SEED})
        process = start(project, "apply", "--fleet", "--confirm-live")
        seen = []
        for line in process.stderr:  # plain progress lines: kill right after the first target is done
            seen.append(line)
            if ": applied (" in line:
                process.send_signal(signal.SIGKILL)
                break
        process.wait(timeout=60)
        assert process.returncode == -signal.SIGKILL, "".join(seen)
        done = [name for name in NAMES if history(urls[name]) == ["0001"]]
        assert done and len(done) < len(NAMES)  # killed mid-wave: some targets applied, some not
        for name in NAMES:  # each target is before or after its migration, never in between
            tables = query(urls[name], "SELECT to_regclass('public.items') IS NOT NULL")[0][0]
            assert tables == (name in done)

        rerun = migguard(project, "apply", "--fleet", "--confirm-live")
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert f"{len(done)} up-to-date" in rerun.stdout
        for url in urls.values():
            assert history(url) == ["0001"]
            assert query(url, "SELECT count(*) FROM items")[0][0] == 1
