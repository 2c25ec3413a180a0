"""The Finding contract's sort order: SORT_KEY (one C call, for sorting a large report) is sort_key."""

from __future__ import annotations

from migguard.core.findings import SORT_KEY, Finding


def test_sort_key_function_is_the_sort_key_property():
    findings = [Finding(rule=rule, severity="error", path=path, line=line, column=column, end_line=line,
                        end_column=column + 1, message="m")
                for rule, path, line, column in (("b", "a/z.sql", 2, 1), ("a", "a/z.sql", 2, 1), ("a", "a-b.sql", 1, 9),
                                                 ("c", "a/z.sql", 10, 1), ("c", "a/z.sql", 2, 3))]
    assert [SORT_KEY(f) for f in findings] == [f.sort_key for f in findings]
    assert sorted(findings, key=SORT_KEY) == sorted(findings, key=lambda f: f.sort_key)
