"""Regression corpus: real migrations from public projects (`../shared/corpus`, see its SOURCES.md).

One test per corpus folder. For every folder: linting each `.sql` file with every rule raises
nothing. For `migration` folders: `syntax-error` is reported exactly where PostgreSQL's own
grammar (pglast) rejects a statement parsed alone, and nowhere else. For `templated` folders
(Go-template placeholders): the real CLI gives findings and one summary line, never a traceback.
The parse rate over the corpus is printed by `bench/lint_corpus.py`, not asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pglast import parser as pg

from migguard.lint.context import LintSettings
from migguard.lint.engine import RulePolicy, lint_text
from migguard.sql.parse import parse_file

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


def _rejected_statements(text: str) -> int:
    """How many statements of `text` PostgreSQL's grammar rejects, each parsed alone.

    A file the grammar accepts as a whole has none. Otherwise the file is cut at every ';' token
    of PostgreSQL's scanner (comments and quoted text cannot hide one) and each piece is parsed.
    """
    if not _rejected(text):
        return 0
    try:
        tokens = pg.scan(text)
    except pg.ParseError:  # the scanner itself gives up (unterminated quote): one error
        return 1
    pieces, start = [], None
    for token in tokens:
        if token.name in ("SQL_COMMENT", "C_COMMENT"):
            continue
        if token.name == "ASCII_59":
            if start is not None:
                pieces.append(text[start:token.start])
            start = None
        elif start is None:
            start = token.start
    if start is not None:
        pieces.append(text[start:])
    return sum(_rejected(piece) for piece in pieces)


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "migguard", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def _assert_clean_stderr(result: subprocess.CompletedProcess[str], what: str) -> None:
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
    reported = expected = 0
    wrong: list[str] = []
    for path in files:
        text = _read(path)
        try:
            findings = lint_text(path.as_posix(), text, SETTINGS, POLICY)
        except Exception as error:  # noqa: BLE001 - the point of the test
            pytest.fail(f"{path.relative_to(CORPUS)}: {type(error).__name__}: {error}")
        if category != "migration":
            continue
        errors = [f for f in findings if f.rule == "syntax-error"]
        reported += len(errors)
        expected += _rejected_statements(text)
        if errors:
            statements = parse_file(text).statements
            for finding in errors:
                sql = statements[finding.statement].text
                if not _rejected(sql):
                    wrong.append(f"{path.relative_to(CORPUS)}:{finding.line}: PostgreSQL accepts {sql[:120]!r}")
    if category == "migration":
        assert not wrong, "syntax-error on statements PostgreSQL accepts:\n" + "\n".join(wrong)
        assert reported == expected, f"{folder}: {reported} syntax-error findings, PostgreSQL rejects {expected}"
        assert expected == KNOWN_REJECTED.get(folder, 0), f"{folder}: PostgreSQL now rejects {expected} statements"


@pytest.mark.parametrize("folder", TEMPLATED_FOLDERS)
def test_templated_files_through_cli(folder: str, tmp_path: Path) -> None:
    """Template placeholders are bad SQL: findings and a summary line, never a traceback.

    About ten files one by one (each CLI start costs ~0.5 s), then the whole folder in one run.
    """
    files = _sql_files(CORPUS / folder)
    sample = files[:: max(1, len(files) // 10)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda p: _run_cli("lint", "--no-cache", str(p), cwd=tmp_path), sample))
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
