"""Migration discovery: each layout of SPEC section 1 is detected and ordered as it applies."""

from __future__ import annotations

from pathlib import Path

import pytest

from migguard.core.config import Config
from migguard.core.errors import InputError
from migguard.core.sources import checksum, detect_layout, discover, read_sql, sql_files
from migguard.lint.engine import LintOptions, run_lint

DROP = "ALTER TABLE accounts DROP COLUMN legacy;\n"


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def names(migrations) -> list[str]:
    return [m.up.name if m.up.name not in ("up.sql", "migration.sql") else m.up.parent.name for m in migrations]


def lint_dir(tmp_path: Path, *paths: str, **config: object):
    options = LintOptions(paths=tuple(str(tmp_path / p) for p in paths), select=("ban-drop-column",), use_cache=False)
    return run_lint(options, Config(root=str(tmp_path), **config))


# --- plain ---------------------------------------------------------------------------------------


def test_plain_numeric_versions_order_numerically_not_by_name(tmp_path):
    write(tmp_path, {"10_ten.sql": "", "2_two.sql": "", "1_one.sql": ""})
    migrations = discover(tmp_path)
    assert detect_layout(sql_files(tmp_path)) == "plain"
    assert [(m.version, m.name) for m in migrations] == [("1", "one"), ("2", "two"), ("10", "ten")]


def test_plain_zero_padded_and_timestamps(tmp_path):
    write(tmp_path, {
        "20240315093000_add_invoices.sql": "",
        "20231201120000_create_accounts.sql": "",
        "20240101000000_add_users.sql": "",
    })
    assert [m.name for m in discover(tmp_path)] == ["create_accounts", "add_users", "add_invoices"]
    write(tmp_path / "padded", {"0002_b.sql": "", "0001_a.sql": "", "0010_c.sql": ""})
    assert [m.version for m in discover(tmp_path / "padded")] == ["0001", "0002", "0010"]


def test_prisma_directory_per_migration_takes_the_version_from_the_directory(tmp_path):
    write(tmp_path, {
        "20240201000000_add_index/migration.sql": "",
        "20240101000000_init/migration.sql": "",
        "migration_lock.toml": "provider = \"postgresql\"\n",
    })
    migrations = discover(tmp_path)
    assert [(m.version, m.name) for m in migrations] == [("20240101000000", "init"), ("20240201000000", "add_index")]


# --- flyway --------------------------------------------------------------------------------------


def test_flyway_versions_undo_scripts_and_repeatables_last(tmp_path):
    write(tmp_path, {
        "V2__add_invoices.sql": "",
        "V1__init.sql": "",
        "V1.1__add_users.sql": "",
        "V10__late.sql": "",
        "U2__add_invoices.sql": "",
        "R__views.sql": "",
        "R__a_functions.sql": "",
    })
    assert detect_layout(sql_files(tmp_path)) == "flyway"
    migrations = discover(tmp_path)
    assert [m.up.name for m in migrations] == [
        "V1__init.sql", "V1.1__add_users.sql", "V2__add_invoices.sql", "V10__late.sql",
        "R__a_functions.sql", "R__views.sql",
    ]
    by_name = {m.up.name: m for m in migrations}
    assert by_name["V2__add_invoices.sql"].down == tmp_path / "U2__add_invoices.sql"
    assert by_name["V1__init.sql"].down is None
    assert [m.repeatable for m in migrations] == [False] * 4 + [True] * 2
    # the undo script is a down script, never a forward migration of its own
    assert all(not m.up.name.startswith("U") for m in migrations)


def test_flyway_underscore_version_is_dotted(tmp_path):
    write(tmp_path, {"V1_1__b.sql": "", "V1__a.sql": "", "V1_2__c.sql": ""})
    assert [m.version for m in discover(tmp_path)] == ["1", "1.1", "1.2"]


# --- updown --------------------------------------------------------------------------------------


def test_diesel_directory_with_up_and_down(tmp_path):
    write(tmp_path, {
        "2024-02-01-000000_add_invoices/up.sql": "CREATE TABLE invoices (id bigint);\n",
        "2024-02-01-000000_add_invoices/down.sql": "DROP TABLE invoices;\n",
        "2024-01-01-000000_create_accounts/up.sql": "CREATE TABLE accounts (id bigint);\n",
        "2024-01-01-000000_create_accounts/down.sql": "DROP TABLE accounts;\n",
    })
    assert detect_layout(sql_files(tmp_path)) == "updown"
    migrations = discover(tmp_path)
    assert [m.name for m in migrations] == ["create_accounts", "add_invoices"]
    assert [m.up.name for m in migrations] == ["up.sql", "up.sql"]
    assert migrations[1].down == tmp_path / "2024-02-01-000000_add_invoices/down.sql"
    assert migrations[1].down_sql() == "DROP TABLE invoices;\n"


def test_golang_migrate_up_down_files(tmp_path):
    write(tmp_path, {
        "0010_ten.up.sql": "", "0010_ten.down.sql": "",
        "0003_three.up.sql": "", "0003_three.down.sql": "",
        "0004_four.up.sql": "",
    })
    migrations = discover(tmp_path)
    assert [m.up.name for m in migrations] == ["0003_three.up.sql", "0004_four.up.sql", "0010_ten.up.sql"]
    assert [m.down.name if m.down else None for m in migrations] == ["0003_three.down.sql", None, "0010_ten.down.sql"]


def test_lint_of_an_updown_directory_checks_forward_scripts_only(tmp_path):
    # diesel: the migrations directory holds only directories; down.sql must not be linted as a migration
    write(tmp_path, {
        "migrations/2024-01-01-000000_drop_legacy/up.sql": "SELECT 1;\n",
        "migrations/2024-01-01-000000_drop_legacy/down.sql": DROP,
    })
    report = lint_dir(tmp_path, "migrations")
    assert report.summary["files"] == 1
    assert report.findings == ()


def test_lint_of_a_prisma_directory_lints_each_migration_sql_in_order(tmp_path):
    write(tmp_path, {
        "prisma/migrations/20240201000000_b/migration.sql": DROP,
        "prisma/migrations/20240101000000_a/migration.sql": "SELECT 1;\n",
    })
    report = lint_dir(tmp_path, "prisma/migrations")
    assert list(report.sources) == [
        (tmp_path / "prisma/migrations/20240101000000_a/migration.sql").as_posix(),
        (tmp_path / "prisma/migrations/20240201000000_b/migration.sql").as_posix(),
    ]
    assert [f.rule for f in report.findings] == ["ban-drop-column"]


# --- dbmate --------------------------------------------------------------------------------------

DBMATE = """\
-- migrate:up
CREATE TABLE invoices (id bigint);
ALTER TABLE accounts DROP COLUMN legacy;

-- migrate:down
ALTER TABLE invoices DROP COLUMN id;
DROP TABLE invoices;
"""


def test_dbmate_detected_and_sections_keep_line_numbers(tmp_path):
    write(tmp_path, {"20240101000000_invoices.sql": DBMATE, "20230101000000_init.sql": "-- migrate:up\nSELECT 1;\n"})
    assert detect_layout(sql_files(tmp_path)) == "dbmate"
    migrations = discover(tmp_path)
    assert [m.name for m in migrations] == ["init", "invoices"]
    up = migrations[1].up_sql()
    assert up.count("\n") == DBMATE.count("\n")
    assert up.splitlines()[2] == "ALTER TABLE accounts DROP COLUMN legacy;"
    assert "migrate:" not in up and "DROP TABLE invoices" not in up
    down = migrations[1].down_sql()
    assert down.splitlines()[6] == "DROP TABLE invoices;" and "CREATE TABLE" not in down


def test_lint_sees_only_the_dbmate_up_section_at_its_real_lines(tmp_path):
    write(tmp_path, {"db/migrations/20240101000000_invoices.sql": DBMATE})
    report = lint_dir(tmp_path, "db/migrations")
    assert [(f.rule, f.line) for f in report.findings] == [("ban-drop-column", 3)]
    # the same when the file is named directly
    report = lint_dir(tmp_path, "db/migrations/20240101000000_invoices.sql")
    assert [(f.rule, f.line) for f in report.findings] == [("ban-drop-column", 3)]


def test_layout_can_be_forced(tmp_path):
    write(tmp_path, {"V1__init.sql": "", "V2__more.sql": ""})
    assert [m.version for m in discover(tmp_path, "plain")] == ["V1__init", "V2__more"]
    assert [m.version for m in discover(tmp_path, "flyway")] == ["1", "2"]


# --- reading -------------------------------------------------------------------------------------


def test_utf8_bom_is_dropped_and_checksum_ignores_it(tmp_path):
    write(tmp_path, {"a.sql": "\ufeffSELECT 'é';\n".encode("utf-8"), "b.sql": "SELECT 'é';\n"})
    assert read_sql(tmp_path / "a.sql") == "SELECT 'é';\n"
    assert checksum(read_sql(tmp_path / "a.sql")) == checksum(read_sql(tmp_path / "b.sql"))


def test_bom_does_not_shift_columns_in_findings(tmp_path):
    write(tmp_path, {"m/0001_x.sql": b"\xef\xbb\xbf" + DROP.encode()})
    report = lint_dir(tmp_path, "m")
    assert [(f.line, f.column) for f in report.findings] == [(1, 22)]


def test_non_utf8_file_is_an_input_error_naming_the_file(tmp_path):
    write(tmp_path, {"0001_latin1.sql": "SELECT 'café';\n".encode("latin-1")})
    with pytest.raises(InputError, match="0001_latin1.sql: not valid UTF-8"):
        read_sql(tmp_path / "0001_latin1.sql")
    with pytest.raises(InputError, match="0001_latin1.sql"):
        lint_dir(tmp_path, ".")


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\xef\xbb", b"\xef\xbb\xbf\xef\xbb\xbfSELECT 1;", b"SELECT 1;",
                                  "\ufeffSELECT 'café';".encode(), b"\xef\xbb\xbfSELECT \xff;", b"SELECT \xe9;",
                                  b"\xef\xbb\xbfab\xc3"])
def test_decoding_is_the_utf8_sig_codec(data):
    """The text, and the byte an error names, are what bytes.decode("utf-8-sig") gives."""
    from migguard.core.sources import decode_sql

    try:
        expected = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        with pytest.raises(InputError, match=rf"^f.sql: not valid UTF-8 \(byte {error.start}\)"):
            decode_sql("f.sql", data)
    else:
        assert decode_sql("f.sql", data) == expected


def test_sql_file_names_are_the_posix_paths_of_sql_files(tmp_path, monkeypatch):
    from migguard.core.sources import sql_file_names

    write(tmp_path, {"db/a.sql": "", "db/sub/b.sql": "", "db/a-b/c.sql": "", "top.sql": ""})
    monkeypatch.chdir(tmp_path)
    for spelling in (".", "./", "db", "db/", "./db", "db//sub", "db/./sub", str(tmp_path), str(tmp_path) + "/db/"):
        directory = Path(spelling)
        assert sql_file_names(directory) == [p.as_posix() for p in sql_files(directory)], spelling
    assert sql_file_names(Path(".")) == ["db/a-b/c.sql", "db/a.sql", "db/sub/b.sql", "top.sql"]


def test_missing_file_and_directory_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_sql(tmp_path / "nope.sql")
    with pytest.raises(InputError, match="no such directory"):
        discover(tmp_path / "nope")


def test_a_directory_named_like_a_sql_file_is_skipped(tmp_path):
    write(tmp_path, {"0001_a.sql": "SELECT 1;\n", "0002_odd.sql/readme.txt": "not a migration"})
    assert sql_files(tmp_path) == [tmp_path / "0001_a.sql"]
    assert [m.up.name for m in discover(tmp_path)] == ["0001_a.sql"]
    assert lint_dir(tmp_path, ".").summary["files"] == 1


def test_sql_files_lists_what_sorted_rglob_lists_in_its_order(tmp_path):
    """Paths sort part by part ('a/z.sql' before 'a-b/c.sql', though '-' < '/' as characters); a link to a
    file counts, a link to a directory is not walked, 'X.SQL' and a directory named '*.sql' are no files."""
    write(tmp_path, {"a/z.sql": "", "a-b/c.sql": "", "a/b/d.sql": "", "a.sql": "", "B.sql": "", "x.SQL": "",
                     "dir.sql/inner.sql": "", "deep/1/2/3.sql": "", ".hidden.sql": "", "n\u00e9e.sql": ""})
    (tmp_path / "linked.sql").symlink_to(tmp_path / "a.sql")
    (tmp_path / "loop").symlink_to(tmp_path / "a", target_is_directory=True)
    expected = sorted(p for p in tmp_path.rglob("*.sql") if p.is_file())
    assert sql_files(tmp_path) == expected
    assert [p.relative_to(tmp_path).as_posix() for p in expected][:6] == [".hidden.sql", "B.sql", "a/b/d.sql", "a/z.sql",
                                                                         "a-b/c.sql", "a.sql"]
    assert tmp_path / "loop" / "z.sql" not in expected and tmp_path / "linked.sql" in expected


@pytest.mark.parametrize("text", ["-- migrate:up\nSELECT 1;\n", "  --MIGRATE:Up\n", "-- café\n-- Migrate:up\n",
                                  "-- m\u0130grate:up\n", "SELECT 'migrate:up';\n", "SELECT 1; -- migrate:upgrade\n",
                                  "-- nothing here\n", "-- caf\u00e9\n"])
def test_is_dbmate_answers_as_the_marker_expression_does(text):
    from migguard.core.sources import _DBMATE_UP, is_dbmate

    assert is_dbmate(text) is bool(_DBMATE_UP.search(text))


def test_timestamps_with_and_without_separators_sort_by_their_digits(tmp_path):
    from migguard.core.sources import discover

    for name in ("2017-08-31-230457_second", "20140924113530_first", "20250625_third"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "up.sql").write_text("SELECT 1;\n")
    assert [m.name for m in discover(tmp_path)] == ["first", "second", "third"]
