"""The one report every renderer is snapshotted on (pip-audit's test/format/conftest.py).

It has each severity, two files (one with a non-ASCII name), a multi-line span, and a message
with every character some format must escape: | : , % < * _ ` and a newline.
"""

from __future__ import annotations

import pytest

from migguard.core.findings import Finding, Report, Severity

INIT = "migrations/0001_init.sql"
CAFE = "migrations/0002_café menu.sql"

INIT_SQL = """\
CREATE TABLE accounts (id bigint PRIMARY KEY, legacy_plan text);
-- migguard:ignore ban-truncate -- not needed
ALTER TABLE accounts DROP COLUMN legacy_plan;
"""

CAFE_SQL = """\
-- Menü für das Café
VACUUM (ANALYZE) menu_items;
ALTER TABLE menu_items ADD COLUMN price numeric
  CHECK (price > 0)
ALTER TABLE menu_items ADD COLUMN note text;
"""


@pytest.fixture
def report() -> Report:
    findings = (
        Finding(
            rule="unused-ignore", severity=Severity.WARNING, path=INIT,
            line=2, column=4, end_line=2, end_column=4, statement=0,
            message="The ignore of ban-truncate silences nothing here.",
            hint="Remove the ignore, or correct the rule id (see `migguard rules`).",
        ),
        Finding(
            rule="ban-drop-column", severity=Severity.ERROR, path=INIT,
            line=3, column=22, end_line=3, end_column=45, statement=1,
            message=("Dropping column accounts.legacy_plan destroys 100% of its data | a, b: c <b>*x*</b> `q`\n"
                     "and breaks clients that still read or write it."),
            hint="Stop using the column in the application and deploy first; drop it later with --allow-destructive.",
        ),
        Finding(
            rule="unanalysed-statement", severity=Severity.INFO, path=CAFE,
            line=2, column=1, end_line=2, end_column=28, statement=0,
            message="migguard does not analyse « VACUUM » statements; review it by hand.",
            hint=None,
        ),
        Finding(
            rule="syntax-error", severity=Severity.ERROR, path=CAFE,
            line=3, column=1, end_line=5, end_column=44, statement=1,
            message='syntax error at or near "ALTER"',
            hint="End the statement before it with ';'.",
        ),
    )
    return Report(
        command="lint",
        ok=False,
        findings=findings,
        summary={"files": 2, "errors": 2, "warnings": 1, "infos": 1},
        sources={INIT: INIT_SQL, CAFE: CAFE_SQL},
    )
