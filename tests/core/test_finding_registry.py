"""The one registry of finding ids (migguard/core/finding_ids.py) documents every id a command can emit.

The ids the code can emit are read from its source, independently of the registry: every finding
constructor in the package (`Rule(id=…)` of a lint rule, `Finding(rule=…)`, plan's `_db_finding(…)`,
the RLS audit's `finding(…)`, the probe's `leak(…)`, scan-app's `OrmHit(…)`) with its id as a literal,
a module constant, or plan's one `precheck-{kind}` template. An id passed through from a parameter
must be one of the known pass-throughs below, so a new way of building findings fails here until
this test reads it. Lint emits its rules' ids; plan, the RLS audit and the probe the database ids;
scan-app the scan ids. Each set must equal what the registry says that origin reports: a new id
without docs, or docs for an id nothing emits, fails the build. Then every id's docs have the six
sections and SARIF gives each a non-empty shortDescription and help.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from pathlib import Path

import pytest

from migguard.core.finding_ids import (
    ORIGINS,
    FindingKind,
    FindingProvider,
    Origin,
    build,
    finding_kind,
    finding_kinds,
    reported_by,
)
from migguard.core.findings import Finding, Report, Severity
from migguard.report import sarif
from tests.clirun import run_cli

PACKAGE = Path(__file__).parents[2] / "migguard"
SECTIONS = ("What it does", "Why it is dangerous", "Bad", "Good", "When it does not fire", "References")

# call name -> where its id is: a keyword, or the first positional argument
CONSTRUCTORS = {"Rule": "id", "Finding": "rule", "_db_finding": 0, "finding": 0, "leak": 0, "OrmHit": 0,
                "generated_sql_findings": "rule"}  # lint/generated.py: the lint of a generated script, under its caller's id
# which command's origin a module's findings have
ORIGIN_OF = {"lint": "lint", "plan": "database", "rls": "database", "scan": "scan", "drift": "database"}
# (module, enclosing function, id expression): helpers handing on an id their callers chose,
# whose callers this scan reads
PASS_THROUGHS = {
    ("lint/engine.py", "_finding", "rule.id"),  # a Rule's id: the Rule(id=…) declarations
    ("plan/command.py", "_db_finding", "rule"),
    ("drift/replay.py", "_db_finding", "rule"),  # the replay's findings (plan, status, apply)
    ("rls/audit.py", "finding", "rule"),
    ("rls/probe.py", "leak", "rule"),
    ("scan/scanner.py", "scan_text", "hit.rule"),  # an OrmHit's rule: the OrmHit(…) calls
}
PRECHECK_TEMPLATE = "precheck-{result.check}"


def _precheck_kinds() -> set[str]:
    """The pre-check kinds plan/prechecks.py runs (each reported as `precheck-<kind>`)."""
    kinds = set(re.findall(r'checks\.append\(\("([a-z-]+)"', (PACKAGE / "plan" / "prechecks.py").read_text()))
    assert kinds, "no pre-check kinds found in migguard/plan/prechecks.py"
    return kinds


def _constants(tree: ast.Module) -> dict[str, str]:
    return {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            for target in node.targets if isinstance(target, ast.Name)}


def _id_argument(call: ast.Call, where: str | int) -> ast.expr | None:
    if isinstance(where, int):
        return call.args[where] if len(call.args) > where else None
    return next((keyword.value for keyword in call.keywords if keyword.arg == where), None)


def _call_name(call: ast.Call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else (
        call.func.attr if isinstance(call.func, ast.Attribute) else None)


@functools.cache
def read_source() -> tuple[dict[str, frozenset[str]], tuple[str, ...]]:
    """Origin -> the finding ids the package's source constructs, read from the code alone; and the
    constructors whose id this reading cannot tell."""
    emitted: dict[str, set[str]] = {origin: set() for origin in ORIGINS}
    unexplained = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _constants(tree)
        enclosing: dict[ast.AST, str] = {}
        for function in ast.walk(tree):  # outer functions come first, so the innermost one wins
            if isinstance(function, ast.FunctionDef):
                enclosing.update(dict.fromkeys(ast.walk(function), function.name))
        for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
            name = _call_name(call)
            if name not in CONSTRUCTORS or (name == "Rule" and not module.startswith("lint/rules/")):
                continue
            argument = _id_argument(call, CONSTRUCTORS[name])
            if argument is None:
                unexplained.append(f"{module}:{call.lineno}: {name}(…) without an id where this test looks for it")
                continue
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                ids = {argument.value}
            elif isinstance(argument, ast.Name) and argument.id in constants:
                ids = {constants[argument.id]}
            elif isinstance(argument, ast.JoinedStr) and module == "plan/command.py" \
                    and ast.unparse(argument) == f"f'{PRECHECK_TEMPLATE}'":
                ids = {f"precheck-{kind}" for kind in _precheck_kinds()}
            elif (module, enclosing.get(call), ast.unparse(argument)) in PASS_THROUGHS:
                continue
            else:
                unexplained.append(f"{module}:{call.lineno}: {name}({ast.unparse(argument)})")
                continue
            origin = ORIGIN_OF.get(module.split("/")[0])
            if origin is None:
                unexplained.append(f"{module}:{call.lineno}: a finding outside lint, plan, rls and scan")
                continue
            emitted[origin] |= ids
    return {origin: frozenset(ids) for origin, ids in emitted.items()}, tuple(unexplained)


def emitted_ids() -> dict[str, frozenset[str]]:
    return read_source()[0]


def test_every_finding_constructor_is_read():
    unexplained = read_source()[1]
    assert not unexplained, "ids this test cannot read (teach it the new constructor):\n" + "\n".join(unexplained)


@pytest.mark.parametrize("origin", ORIGINS)
def test_what_the_code_emits_is_what_the_registry_documents(origin):
    assert emitted_ids()[origin], f"no {origin} finding found in the source: the scan is broken"
    undocumented = emitted_ids()[origin] - reported_by(origin)
    assert not undocumented, f"{origin} emits ids the registry does not document: {sorted(undocumented)}"
    assert reported_by(origin) == emitted_ids()[origin], \
        f"the registry documents {origin} ids nothing emits: {sorted(reported_by(origin) - emitted_ids()[origin])}"


def test_every_documented_id_is_emitted_and_none_twice():
    kinds = finding_kinds()
    assert len({kind.id for kind in kinds}) == len(kinds)
    assert {kind.id for kind in kinds} == set().union(*emitted_ids().values())
    assert [kind.id for kind in kinds] == sorted(kind.id for kind in kinds)
    assert all(finding_kind(kind.id) is kind for kind in kinds)
    assert finding_kind("no-such-finding") is None


@pytest.mark.parametrize("kind", finding_kinds(), ids=lambda kind: kind.id)
def test_docs_have_every_section(kind: FindingKind):
    assert kind.summary.strip() and "\n" not in kind.summary
    headings = re.findall(r"^## (.+)$", kind.doc, re.MULTILINE)
    assert tuple(headings) == SECTIONS, f"{kind.id}: sections {headings}"
    for section in re.split(r"^## .+$", kind.doc, flags=re.MULTILINE)[1:]:
        assert section.strip(), f"{kind.id}: an empty section"


def test_sarif_describes_every_id_with_help():
    """One report holding a finding of every id, as lint, plan, rls check and scan-app would emit it."""
    findings = tuple(Finding(rule=kind.id, severity=kind.default_severity, path="db/migrations/0001_x.sql", line=1,
                             column=1, end_line=1, end_column=2, message="m") for kind in finding_kinds())
    document = json.loads(sarif.render(Report(command="plan", ok=False, findings=findings)))
    descriptors = {rule["id"]: rule for rule in document["runs"][0]["tool"]["driver"]["rules"]}
    assert set(descriptors) == {kind.id for kind in finding_kinds()}
    for kind in finding_kinds():
        descriptor = descriptors[kind.id]
        assert descriptor["shortDescription"]["text"] == kind.summary
        assert descriptor["help"]["text"].strip() and descriptor["help"]["markdown"] == kind.doc.strip()
        assert descriptor["fullDescription"]["text"].strip()
        assert descriptor["defaultConfiguration"]["level"] == sarif.LEVELS[kind.default_severity]
        assert descriptor["properties"]["tags"][0] == kind.family
        assert ("destructive" in descriptor["properties"]["tags"]) == kind.destructive


def test_accept_takes_exactly_the_ids_the_database_steps_report():
    from migguard.core.config import acceptable_finding_ids

    assert acceptable_finding_ids() == emitted_ids()["database"]
    assert "require-rls-enabled" in acceptable_finding_ids()  # a lint rule's id the RLS audit reports too
    assert not {"ban-drop-column", "tenant-filter-missing"} & acceptable_finding_ids()  # lint and scan-app ids


# --- the registry's own checks --------------------------------------------------------------------


def _kind(finding_id: str = "a-b", family: str = "plan", origin: Origin = "database") -> FindingKind:
    return FindingKind(finding_id, Severity.ERROR, "summary", family, origin, "## What it does\nx\n")


@pytest.mark.parametrize(("providers", "message"), [
    ([FindingProvider("database", ("plan",), (_kind(), _kind()))], "'a-b' is declared twice"),
    ([FindingProvider("database", ("plan",), (_kind(),)), FindingProvider("scan", ("app-scan",),
                                                                          (_kind(family="app-scan", origin="scan"),))],
     "'a-b' is declared twice"),
    ([FindingProvider("database", ("plan",), (_kind(family="locks"),))], "family 'locks' is not one of"),
    ([FindingProvider("scan", ("plan",), (_kind(),))], "origin 'database'"),
    ([FindingProvider("database", ("plan",), (_kind("A_b"),))], "'A_b' is not kebab-case"),
    ([FindingProvider("database", ("plan",), (_kind(),), reports_too=("c-d",))], "reports 'c-d', which no provider"),
    ([FindingProvider("database", ("plan",), (FindingKind("a-b", Severity.INFO, "s", "plan", "database", " "),))],
     "has no summary or no docs"),
], ids=["twice", "across-providers", "family", "origin", "kebab", "reports-undocumented", "no-docs"])
def test_a_bad_declaration_is_refused(providers, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build(providers)


def test_scan_app_sarif_has_help_for_its_ids(tmp_path):
    """Through the CLI: a command other than lint gets the help of its own ids (the registry loads its
    providers on first use, whichever command runs)."""
    (tmp_path / ".git").mkdir()  # no allowlist above the scanned directory is read
    (tmp_path / "app.py").write_text('def cancel(cur, booking_id):\n'
                                     '    cur.execute("DELETE FROM bookings WHERE id = %s", (booking_id,))\n')
    done = run_cli(["scan-app", "app.py", "--tables", "bookings", "--format", "sarif"], cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    (descriptor,) = json.loads(done.stdout)["runs"][0]["tool"]["driver"]["rules"]
    assert descriptor["id"] == "tenant-filter-missing"
    assert descriptor["help"]["markdown"] == finding_kind("tenant-filter-missing").doc.strip()
