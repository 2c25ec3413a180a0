"""Which lock a statement takes and what that lock blocks, from PostgreSQL's lock table.

Source: https://www.postgresql.org/docs/current/explicit-locking.html (table 13.2). Hints and the
require-lock-timeout rule read this so every lock hazard names its lock the same way.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Lock:
    name: str
    blocks: str
    strong: bool  # conflicts with ordinary reads or writes, so it queues traffic behind it

    def describe(self) -> str:
        return f"{self.name} lock, which blocks {self.blocks}"


ACCESS_EXCLUSIVE = Lock("ACCESS EXCLUSIVE", "every read and write of the table", True)
EXCLUSIVE = Lock("EXCLUSIVE", "every write of the table (reads continue)", True)
SHARE_ROW_EXCLUSIVE = Lock("SHARE ROW EXCLUSIVE", "every write of the table (reads continue)", True)
SHARE = Lock("SHARE", "every write of the table (reads continue)", True)
SHARE_UPDATE_EXCLUSIVE = Lock(
    "SHARE UPDATE EXCLUSIVE", "VACUUM, ANALYZE and other schema changes, but not reads or writes", False
)
ROW_EXCLUSIVE = Lock("ROW EXCLUSIVE", "only SHARE and stronger locks, such as CREATE INDEX", False)

# ALTER TABLE actions (PostgreSQL AlterTableType, snake case) that take less than ACCESS EXCLUSIVE.
_ALTER_TABLE_LOCKS = {
    "validate_constraint": SHARE_UPDATE_EXCLUSIVE,
    "set_statistics": SHARE_UPDATE_EXCLUSIVE,
    "cluster_on": SHARE_UPDATE_EXCLUSIVE,
    "drop_cluster": SHARE_UPDATE_EXCLUSIVE,
    "set_rel_options": SHARE_UPDATE_EXCLUSIVE,
    "reset_rel_options": SHARE_UPDATE_EXCLUSIVE,
    "attach_partition": SHARE_UPDATE_EXCLUSIVE,
    "enable_trig": SHARE_ROW_EXCLUSIVE,
    "disable_trig": SHARE_ROW_EXCLUSIVE,
    "enable_trig_all": SHARE_ROW_EXCLUSIVE,
    "disable_trig_all": SHARE_ROW_EXCLUSIVE,
    "enable_trig_user": SHARE_ROW_EXCLUSIVE,
    "disable_trig_user": SHARE_ROW_EXCLUSIVE,
}


def alter_table_lock(action_kind: str, *, foreign_key: bool = False, concurrent: bool = False) -> Lock:
    """The lock an ALTER TABLE action takes on its table."""
    if foreign_key:
        return SHARE_ROW_EXCLUSIVE
    if action_kind == "detach_partition" and concurrent:
        return SHARE_UPDATE_EXCLUSIVE
    return _ALTER_TABLE_LOCKS.get(action_kind, ACCESS_EXCLUSIVE)


CREATE_INDEX = SHARE
CREATE_INDEX_CONCURRENTLY = SHARE_UPDATE_EXCLUSIVE
DROP_INDEX = ACCESS_EXCLUSIVE
REINDEX = ACCESS_EXCLUSIVE  # on the index; SHARE on the table
VACUUM_FULL = ACCESS_EXCLUSIVE
CLUSTER = ACCESS_EXCLUSIVE
TRUNCATE = ACCESS_EXCLUSIVE
DROP_TABLE = ACCESS_EXCLUSIVE
UPDATE_DELETE = ROW_EXCLUSIVE
REFRESH_MATERIALIZED_VIEW = ACCESS_EXCLUSIVE
CREATE_TRIGGER = SHARE_ROW_EXCLUSIVE
