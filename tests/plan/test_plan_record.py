"""What a written plan records and how it is read back (no database): the hash of every file it
wrote, which findings its database steps made, and a dry-run text no name can break out of."""

import json

import pytest

from migguard.apply.command import _dry_run_text
from migguard.apply.gates import Acceptance, acceptances, check_plan_findings
from migguard.core.errors import GateRefused, InputError
from migguard.core.findings import Finding, Severity
from migguard.core.sources import checksum
from migguard.plan.command import MigrationStep, Plan, SavedPlan, write_plan
from migguard.schema.diff import Change
from migguard.schema.model import SchemaModel

EVIL = "c\nDELETE FROM public.victim;\n--"


def _finding(rule: str, severity: Severity, path: str, message: str = "m") -> Finding:
    return Finding(rule=rule, severity=severity, path=path, line=1, column=1, end_line=1, end_column=1,
                   message=message, hint="h")


def _plan(**overrides) -> Plan:
    lint = _finding("require-lock-timeout", Severity.ERROR, "db/migrations/0001_t.sql")
    widening = _finding("rls-permissive-or-widening", Severity.ERROR, f"db:public.{EVIL}", f"Policy {EVIL} widens.")
    lock = _finding("observed-blocking-lock", Severity.WARNING, "db/migrations/0001_t.sql")
    forward = "CREATE TABLE t (id int);\r\n-- a CRLF file keeps its bytes\r\n"
    fields = {
        "fingerprint": "f" * 64, "applied": [], "pending": ["0001"],
        "changes": [Change(kind="drop column", object=f"public.t.{EVIL}", forward="", reverse="", destructive=True)],
        "drift": [], "prechecks": [], "traces": [], "rollback_sql": "DROP TABLE t;\n", "forward_sql": forward,
        "rollback_verified": True, "irreversible": [], "before": SchemaModel(), "after": SchemaModel(),
        "target": "empty database", "findings": [lint, widening, lock], "database_findings": [widening, lock],
        "steps": [MigrationStep("0001", "t", checksum(forward), "db/migrations/0001_t.sql", [],
                                checksum("DROP TABLE t;"))]}
    return Plan(**(fields | overrides))


@pytest.fixture
def written(tmp_path):
    return write_plan(_plan(), tmp_path / "plans")


def test_the_plan_records_the_hash_of_every_file_it_writes_and_reads_them_back_exactly(written):
    document = json.loads((written / "plan.json").read_text())
    on_disk = sorted(p.relative_to(written).as_posix() for p in written.rglob("*") if p.is_file())
    assert sorted(document["files"]) == [name for name in on_disk if name != "plan.json"]
    assert all(document["files"][name] == checksum((written / name).read_bytes().decode()) for name in document["files"])
    assert document["migrations"][0]["down_checksum"] == checksum("DROP TABLE t;")
    saved = SavedPlan.load(written)
    assert saved.forward_sql() == _plan().forward_sql  # byte for byte: no newline translation
    assert [f["rule"] for f in saved.database_findings()] == ["rls-permissive-or-widening", "observed-blocking-lock"]


@pytest.mark.parametrize("name", ["forward.sql", "rollback/0001.sql", "schema-after.json"])
def test_a_plan_edited_after_it_was_written_is_refused(written, name):
    path = written / name
    path.write_bytes(path.read_bytes() + b" ")
    with pytest.raises(GateRefused, match=f"{name} was changed after the plan was written"):
        SavedPlan.load(written)


def test_a_plan_without_the_record_of_its_database_findings_must_be_made_again(written):
    document = json.loads((written / "plan.json").read_text())
    del document["database_findings"]
    (written / "plan.json").write_text(json.dumps(document))
    with pytest.raises(GateRefused, match="plan again"):
        SavedPlan.load(written).database_findings()


def test_a_plan_naming_a_file_outside_itself_is_unreadable(written):
    document = json.loads((written / "plan.json").read_text())
    document["files"]["../plan.json"] = "0" * 64
    (written / "plan.json").write_text(json.dumps(document))
    with pytest.raises(InputError, match="not a readable migguard plan"):
        SavedPlan.load(written)


def test_only_database_findings_at_failing_severity_refuse_and_acceptances_name_their_source(written):
    saved = SavedPlan.load(written)
    with pytest.raises(GateRefused, match="1 finding\\(s\\) nobody accepted: rls-permissive-or-widening at db:") as refused:
        check_plan_findings(saved, {}, strict=False)  # the lint error is the live lint gate's, not this one's
    assert "\n" not in refused.value.message  # one line on stderr, whatever the object is called
    with pytest.raises(GateRefused, match="observed-blocking-lock"):
        check_plan_findings(saved, acceptances({"rls-permissive-or-widening": "why"}, (), False), strict=True)
    accepted = acceptances({"rls-permissive-or-widening": "approved, SEC-42"}, ("observed-blocking-lock",), True)
    assert check_plan_findings(saved, accepted, strict=True) == [
        Acceptance("rls-permissive-or-widening", "config", "approved, SEC-42"),
        Acceptance("observed-blocking-lock", "flag", None)]
    assert accepted["schema-drift"] == Acceptance("schema-drift", "flag", None)  # --accept-drift
    with pytest.raises(InputError, match="--accept ban-drop-table: unknown finding id"):
        acceptances({}, ("ban-drop-table",), False)  # lint findings are suppressed in the file, not accepted


def test_no_name_or_message_ends_a_comment_of_the_dry_run(written):
    saved = SavedPlan.load(written)
    for refusal in (None, GateRefused(f"refused because of {EVIL}")):
        text = _dry_run_text(saved, {}, strict=True, refusal=refusal)
        sql = {saved.forward_sql().rstrip(), saved.rollback_sql().rstrip()}
        comments = text
        for block in sql:
            comments = comments.replace(block, "")
        assert all(line.startswith("-- ") for line in comments.splitlines() if line), text
        assert "DELETE FROM public.victim;\\n--" in text and "\nDELETE" not in text
