"""Type changes PostgreSQL makes without a rewrite, or that cannot lose data, that lint must not refuse
(checked against `pg_class.relfilenode` on PostgreSQL 15: ../shared/peers/lint/SOURCES.md)."""

import pytest

from tests.lint.lintkit import assert_clean, assert_flags

CHANGE = "changing-column-type"
NARROW = "ban-narrowing-type-change"


@pytest.mark.parametrize("old, new", [
    ("timestamp(0)", "timestamp(3)"), ("timestamp(3)", "timestamp(6)"), ("timestamp", "timestamp(6)"),
    ("timestamp(6)", "timestamp"), ("timestamptz(2)", "timestamptz(6)"), ("timestamptz", "timestamptz(6)"),
    ("time(1)", "time(4)"), ("time", "time(6)"), ("interval(2)", "interval(5)"), ("interval", "interval(6)"),
])
def test_raising_fractional_precision_is_not_a_rewrite(old, new):
    assert_clean(f"ALTER TABLE t ADD COLUMN c {old};\nALTER TABLE t ALTER COLUMN c TYPE {new};", CHANGE)


@pytest.mark.parametrize("old, new", [("timestamp(6)", "timestamp(3)"), ("timestamp", "timestamp(3)"),
                                      ("timestamptz(4)", "timestamptz(2)")])
def test_lowering_fractional_precision_rewrites(old, new):
    assert_flags(f"ALTER TABLE t ADD COLUMN c {old};\nALTER TABLE t ALTER COLUMN c TYPE {new};", CHANGE, count=1)


def test_using_the_plain_cast_to_the_new_type_is_no_using():
    sql = ('ALTER TABLE t ADD COLUMN "field" varchar(40);\n'
           'ALTER TABLE t ALTER COLUMN "field" TYPE text USING "field"::text;')
    assert_clean(sql, CHANGE)
    assert_clean("ALTER TABLE t ALTER COLUMN f TYPE text USING (f::text);", CHANGE)  # old type unknown: maybe coercible
    # A cast to another type, of another column, or an expression is a real USING.
    assert_flags("ALTER TABLE t ADD COLUMN f varchar(40);\nALTER TABLE t ALTER COLUMN f TYPE text USING f::varchar;",
                 CHANGE, count=1)
    assert_flags("ALTER TABLE t ADD COLUMN f varchar(40);\nALTER TABLE t ALTER COLUMN f TYPE text USING g::text;",
                 CHANGE, count=1)
    assert_flags("ALTER TABLE t ADD COLUMN f varchar(40);\nALTER TABLE t ALTER COLUMN f TYPE text USING lower(f);",
                 CHANGE, count=1)


def test_integer_to_bigint_rewrites_but_is_not_narrowing():
    sql = 'ALTER TABLE "tests_model" ALTER COLUMN "field" TYPE bigint USING "field"::bigint;'
    assert_clean(sql, NARROW)
    assert_flags(sql, CHANGE, count=1)
    assert_clean("ALTER TABLE t ADD COLUMN n integer;\nALTER TABLE t ALTER COLUMN n TYPE bigint USING n::bigint;",
                 NARROW)
    # Still narrowing when the old type says so.
    assert_flags("ALTER TABLE t ADD COLUMN n numeric(30);\nALTER TABLE t ALTER COLUMN n TYPE bigint USING n::bigint;",
                 NARROW, count=1)
