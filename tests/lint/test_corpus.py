"""Regression corpus: real migrations from public projects (`../shared/corpus`, see its SOURCES.md).

One test per corpus folder. For every folder: linting each `.sql` file with every rule raises
nothing. For `migration` folders, PostgreSQL's own parser (pglast) is the oracle of the statement
splitter: each slice migguard cuts is one statement to the parser or one it rejects, nothing of
the file falls between slices, and `syntax-error` is reported exactly on the rejected slices. For `templated` folders
(Go-template placeholders): the real CLI gives findings and one summary line, never a traceback.
The parse rate over the corpus is printed by `bench/lint_corpus.py`, not asserted here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pglast import parser as pg

from migguard.lint.context import LintSettings
from migguard.lint.engine import RulePolicy, lint_text
from migguard.sql.parse import parse_file
from tests.clirun import Result, run_cli

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"

if not CORPUS.is_dir():
    pytest.skip(f"regression corpus not found at {CORPUS} (it lives outside the repository)", allow_module_level=True)

# Statements of the `migration` category that PostgreSQL itself rejects, per folder (0 elsewhere):
# a crates.io down.sql missing the ';' between two statements, and graphile's psql `:VARIABLE`
# placeholders. Pinned so that a change on either side (migguard or pglast) is noticed.
KNOWN_REJECTED = {"rust-lang__crates.io": 1, "graphile__starter": 19}


def _categories() -> dict[str, tuple[str, int]]:
    """folder → (category, number of files) from the table in SOURCES.md."""
    lines = [line.strip() for line in (CORPUS / "SOURCES.md").read_text(encoding="utf-8").splitlines()]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines if line.startswith("|")]
    header, body = rows[0], [row for row in rows[1:] if not set("".join(row)) <= set("-: ")]
    folder, category, files = header.index("folder"), header.index("category"), header.index("files")
    return {row[folder]: (row[category], int(row[files])) for row in body}


CATEGORIES = _categories()
FOLDERS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
MIGRATION_FOLDERS = [f for f in FOLDERS if CATEGORIES.get(f, ("",))[0] == "migration"]
TEMPLATED_FOLDERS = [f for f in FOLDERS if CATEGORIES.get(f, ("",))[0] == "templated"]

POLICY = RulePolicy.build()  # every rule
SETTINGS = LintSettings()


def _sql_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.sql") if p.is_file())  # some directories are named *.sql


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig")


def _rejected(sql: str) -> bool:
    try:
        pg.parse_sql(sql)
    except pg.ParseError:
        return True
    return False


def _tokens(sql: str) -> list[str] | None:
    """PostgreSQL's scanner's token names for `sql`, comments left out; None when it gives up."""
    try:
        return [t.name for t in pg.scan(sql) if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    except pg.ParseError:
        return None


def _split_problems(text: str) -> tuple[list[str], int]:
    """What PostgreSQL's own parser, given each slice migguard cut, says is wrong with the cut;
    and how many slices it rejects. Independent of migguard's splitter (which it checks):

    - the slices are in order and apart, and what lies between and around them is only
      whitespace, comments and ';' (nothing of the file is lost);
    - a slice migguard accepts is exactly one statement to PostgreSQL's parser;
    - a slice migguard rejects is rejected by the parser, and holds no ';' token (two statements
      were not glued into one error);
    - when the parser accepts the whole file, it counts as many statements as there are slices.
    """
    statements = parse_file(text).statements
    problems, rejected, end = [], 0, 0
    for statement in statements:
        where = f"statement {statement.index} (line {statement.line})"
        gap = text[end:statement.start]
        if statement.start < end or _tokens(gap) is None or set(_tokens(gap)) - {"ASCII_59"}:
            problems.append(f"{where}: before it, text that is in no statement: {gap[-80:]!r}")
        if text[statement.start:statement.start + len(statement.text)] != statement.text:
            problems.append(f"{where}: its text is not the file's text at its offset")
        end = statement.start + len(statement.text)
        if statement.syntax_error is None:
            try:
                count = len(pg.parse_sql(statement.text))
            except pg.ParseError as error:
                problems.append(f"{where}: accepted, but PostgreSQL rejects it: {error}")
                continue
            if count != 1:
                problems.append(f"{where}: accepted as one statement, PostgreSQL reads {count}")
        else:
            rejected += 1
            if not _rejected(statement.text):
                problems.append(f"{where}: syntax error reported, PostgreSQL accepts {statement.text[:120]!r}")
            if "ASCII_59" in (_tokens(statement.text) or ()):
                problems.append(f"{where}: a rejected slice that holds a ';' (two statements glued?)")
    tail = text[end:]
    if _tokens(tail) is None or set(_tokens(tail)) - {"ASCII_59"}:
        problems.append(f"after the last statement, text that is in no statement: {tail[:80]!r}")
    if not _rejected(text) and len(pg.parse_sql(text)) != len(statements):
        problems.append(f"PostgreSQL reads {len(pg.parse_sql(text))} statements, migguard {len(statements)}")
    return problems, rejected


def _run_cli(*args: str, cwd: Path) -> Result:
    return run_cli(args, cwd=cwd)


def _assert_clean_stderr(result: Result, what: str) -> None:
    assert result.returncode in (0, 1), f"{what}: exit code {result.returncode}\n{result.stderr}"
    assert "Traceback" not in result.stderr, f"{what}:\n{result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) <= 1, f"{what}: expected at most the summary line on stderr, got:\n{result.stderr}"
    assert all(line.startswith("migguard: ") and "internal error" not in line for line in lines), result.stderr


def test_sources_table_lists_every_folder() -> None:
    assert set(FOLDERS) == set(CATEGORIES), "SOURCES.md's table and the corpus folders disagree"
    assert MIGRATION_FOLDERS and TEMPLATED_FOLDERS


@pytest.mark.parametrize("folder", FOLDERS)
def test_folder_lints_without_crash(folder: str) -> None:
    """Every file lints with every rule; `migration` folders get syntax-error only where PostgreSQL refuses."""
    category, expected_files = CATEGORIES.get(folder, ("unknown", None))
    files = _sql_files(CORPUS / folder)
    if expected_files is not None:
        assert len(files) == expected_files, f"{folder}: {len(files)} .sql files, SOURCES.md says {expected_files}"
    reported = rejected = 0
    wrong: list[str] = []
    for path in files:
        text = _read(path)
        try:
            findings = lint_text(path.as_posix(), text, SETTINGS, POLICY)
        except Exception as error:  # noqa: BLE001 - the point of the test
            pytest.fail(f"{path.relative_to(CORPUS)}: {type(error).__name__}: {error}")
        if category != "migration":
            continue
        problems, count = _split_problems(text)
        wrong += [f"{path.relative_to(CORPUS)}: {problem}" for problem in problems]
        rejected += count
        reported += sum(1 for f in findings if f.rule == "syntax-error")
    if category == "migration":
        assert not wrong, "statements cut where PostgreSQL's parser disagrees:\n" + "\n".join(wrong)
        assert reported == rejected, f"{folder}: {reported} syntax-error findings, PostgreSQL rejects {rejected}"
        assert rejected == KNOWN_REJECTED.get(folder, 0), f"{folder}: PostgreSQL now rejects {rejected} statements"


@pytest.mark.parametrize("folder", TEMPLATED_FOLDERS)
def test_templated_files_through_cli(folder: str, tmp_path: Path) -> None:
    """Template placeholders are bad SQL: findings and a summary line, never a traceback.

    About ten files one by one (in process), then the whole folder in one run.
    """
    files = _sql_files(CORPUS / folder)
    sample = files[:: max(1, len(files) // 10)]
    results = [_run_cli("lint", "--no-cache", str(path), cwd=tmp_path) for path in sample]
    for path, result in zip(sample, results, strict=True):
        _assert_clean_stderr(result, str(path.relative_to(CORPUS)))
    assert any(result.returncode == 1 for result in results), "no placeholder was reported as a syntax error"
    whole = _run_cli("lint", "--no-cache", "--format", "json", str(CORPUS / folder), cwd=tmp_path)
    _assert_clean_stderr(whole, folder)
    report = json.loads(whole.stdout)
    assert report["summary"]["files"] == len(files)
    assert any(f["rule"] == "syntax-error" for f in report["findings"])


def test_cli_on_whole_migration_folder(tmp_path: Path) -> None:
    folder = CORPUS / "usebasejump__basejump"
    result = _run_cli("lint", "--no-cache", "--format", "json", str(folder), cwd=tmp_path)
    _assert_clean_stderr(result, folder.name)
    report = json.loads(result.stdout)
    assert report["summary"]["files"] == len(_sql_files(folder))
    assert not [f for f in report["findings"] if f["rule"] == "syntax-error"]
