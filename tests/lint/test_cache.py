"""lint's cache (lint/cache.py): a second lint is answered from it with the same findings; a change of
content, path, settings or rules is a miss; a damaged cache file or entry is a miss, never an error."""

from __future__ import annotations

import json

import pytest

from migguard.lint.cache import LintCache
from migguard.lint.engine import LintTarget, PolicyRequest, RulePolicy, lint_targets
from migguard.lint.settings import LintSettings

DROP = "ALTER TABLE accounts DROP COLUMN legacy;\nCREATE INDEX accounts_email ON accounts (email);\n"
OTHER = "-- migguard:ignore ban-truncate -- legacy\nDROP TABLE old_accounts;\nALTER TABLE t ADD COLUMN n text DEFAULT 'café …';\n"


def _dump(findings) -> list[dict]:
    return [f.model_dump(mode="json") for f in findings]


def _targets() -> list[LintTarget]:
    return [LintTarget("db/0001_drop.sql", DROP), LintTarget("db/0002_other.sql", OTHER)]


def _lint(directory, targets=None, settings=None, policy=None):
    return lint_targets(targets or _targets(), settings or LintSettings(), policy or RulePolicy.build(),
                        LintCache(directory), jobs=1)


def test_a_second_lint_reads_the_same_findings_from_the_cache(tmp_path):
    first = _lint(tmp_path)
    assert {f.rule for f in first} >= {"ban-drop-column", "unused-ignore"}  # messages, hints, None statement
    cache = LintCache(tmp_path)
    settings, policy = LintSettings(), RulePolicy.build()
    keys = [(cache.key(t, settings, policy), t.path) for t in _targets()]
    cached = cache.get_many(keys)
    assert all(found is not None for found in cached)
    assert _dump(f for found in cached for f in found) == _dump(first)
    assert _dump(_lint(tmp_path)) == _dump(first)
    assert [p.name for p in tmp_path.iterdir()] == ["lint-v2.json"]


def test_content_path_settings_and_rules_each_change_the_key(tmp_path):
    cache = LintCache(tmp_path)
    target, settings, policy = _targets()[0], LintSettings(), RulePolicy.build()
    key = cache.key(target, settings, policy)
    changed = {
        cache.key(LintTarget(target.path, target.text + "\n"), settings, policy),
        cache.key(LintTarget("db/other.sql", target.text), settings, policy),
        cache.key(target, LintSettings(pg_version=16), policy),
        cache.key(target, settings, RulePolicy.build(ignore=["ban-drop-column"])),
        cache.key(target, settings, RulePolicy.build(allow_destructive=True)),
        cache.key(target, settings, RulePolicy.build({"ban-drop-column": "warning"})),
        cache.key(target, settings, PolicyRequest()),
    }
    assert key not in changed and len(changed) == 7


def test_an_edited_file_is_linted_again_not_read_from_the_cache(tmp_path):
    _lint(tmp_path)
    edited = [LintTarget("db/0001_drop.sql", "DROP TABLE accounts;\n"), _targets()[1]]
    assert "ban-drop-table" in {f.rule for f in _lint(tmp_path, edited)}
    settings_changed = _lint(tmp_path, policy=RulePolicy.build({"ban-drop-column": "warning"}))
    assert {f.severity.value for f in settings_changed if f.rule == "ban-drop-column"} == {"warning"}


@pytest.mark.parametrize("content", [
    b"", b"\x00\xff garbage", b"[]", b'{"format": 1, "strings": [], "entries": {}}', b'{"format": 2}',
    b'{"format": 2, "code": "CODE", "strings": [1], "entries": {}}',
    b'{"format": 2, "code": "CODE", "strings": [], "entries": []}',
    b'{"format": 2, "code": "CODE", "strings": ["x"], "entries": {"k": [[0, 0]]}}',
])
def test_a_cache_file_that_cannot_be_read_is_ignored(tmp_path, content):
    from migguard.lint.cache import code_version

    expected = _dump(_lint(None))
    (tmp_path / LintCache.FILE).write_bytes(content.replace(b"CODE", code_version().encode()))
    assert _dump(_lint(tmp_path)) == expected
    assert json.loads((tmp_path / LintCache.FILE).read_text(encoding="utf-8"))["format"] == LintCache.FORMAT
    assert _dump(_lint(tmp_path)) == expected


@pytest.mark.parametrize("damage", ["short row", "string index out of range", "negative index", "index is text",
                                    "line is text", "unknown severity", "entry is not a list"])
def test_a_damaged_entry_is_a_miss_and_the_others_still_serve(tmp_path, damage):
    expected = _dump(_lint(tmp_path))
    document = json.loads((tmp_path / LintCache.FILE).read_text(encoding="utf-8"))
    cache = LintCache(tmp_path)
    settings, policy = LintSettings(), RulePolicy.build()
    damaged_key, kept_key = (cache.key(t, settings, policy) for t in _targets())
    row = document["entries"][damaged_key][0]
    if damage == "short row":
        row.pop()
    elif damage == "string index out of range":
        row[7] = len(document["strings"])
    elif damage == "negative index":
        row[0] = -1
    elif damage == "index is text":
        row[0] = "ban-drop-column"
    elif damage == "line is text":
        row[2] = "three"
    elif damage == "unknown severity":
        row[1] = document["strings"].index("ban-drop-column")
    else:
        document["entries"][damaged_key] = {"not": "rows"}
    (tmp_path / LintCache.FILE).write_text(json.dumps(document), encoding="utf-8")
    damaged, kept = LintCache(tmp_path).get_many([(damaged_key, "db/0001_drop.sql"), (kept_key, "db/0002_other.sql")])
    assert damaged is None
    assert _dump(kept) == [f for f in expected if f["path"] == "db/0002_other.sql"]
    assert _dump(_lint(tmp_path)) == expected  # relinted, and the entry rewritten
    assert all(found is not None for found in LintCache(tmp_path).get_many([(damaged_key, "db/0001_drop.sql")]))


def test_entries_of_another_code_version_are_dropped(tmp_path, monkeypatch):
    """An upgrade (or an edited rule) changes code_version: the old entries can never match again, and
    the next save does not carry them along."""
    from migguard.lint import cache as cache_module

    _lint(tmp_path)
    document = json.loads((tmp_path / LintCache.FILE).read_text(encoding="utf-8"))
    assert document["code"] == cache_module.code_version() and len(document["entries"]) == 2
    monkeypatch.setattr(cache_module, "code_version", lambda: "another version")
    assert LintCache(tmp_path).get_many([(key, "x.sql") for key in document["entries"]]) == [None, None]
    _lint(tmp_path, [_targets()[0]])
    document = json.loads((tmp_path / LintCache.FILE).read_text(encoding="utf-8"))
    assert document["code"] == "another version" and len(document["entries"]) == 1


def test_the_older_cache_file_is_removed_when_the_new_one_is_written(tmp_path):
    (tmp_path / "lint-v1.json").write_text("{}", encoding="utf-8")
    _lint(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lint-v2.json"]


def test_saving_keeps_only_the_strings_the_kept_entries_use(tmp_path, monkeypatch):
    monkeypatch.setattr(LintCache, "MAX_ENTRIES", 1)
    _lint(tmp_path)
    document = json.loads((tmp_path / LintCache.FILE).read_text(encoding="utf-8"))
    assert len(document["entries"]) == 1
    used = {value for rows in document["entries"].values() for row in rows for value in (row[0], row[1], row[7], row[8])}
    assert used - {None} == set(range(len(document["strings"])))


def test_findings_read_from_the_cache_are_the_validated_findings(tmp_path):
    """Cached findings are assembled without pydantic's validation (cache._assembler): they compare, hash,
    dump and copy as the findings lint computed."""
    first = _lint(tmp_path)
    cache, settings, policy = LintCache(tmp_path), LintSettings(), RulePolicy.build()
    cached = [f for found in cache.get_many([(cache.key(t, settings, policy), t.path) for t in _targets()])
              for f in found]
    assert cached == first and [hash(f) for f in cached] == [hash(f) for f in first]
    assert [f.model_fields_set for f in cached] == [f.model_fields_set for f in first]
    assert [f.model_copy(update={"line": 99}) for f in cached] == [f.model_copy(update={"line": 99}) for f in first]
    assert all(type(f.severity) is type(g.severity) for f, g in zip(cached, first, strict=True))


def test_without_the_assembler_every_entry_is_validated(tmp_path, monkeypatch):
    """A pydantic whose models the assembler does not reproduce: findings are validated, with the same result."""
    from migguard.lint import cache as cache_module

    first = _lint(tmp_path)
    monkeypatch.setattr(cache_module, "_assembler", lambda: None)
    cache, settings, policy = LintCache(tmp_path), LintSettings(), RulePolicy.build()
    found = cache.get_many([(cache.key(t, settings, policy), t.path) for t in _targets()])
    assert all(entry is not None for entry in found) and [f for entry in found for f in entry] == first
