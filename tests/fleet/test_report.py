"""fleet/report.py: the per-target rows as Markdown and as a plain table (pure)."""

from __future__ import annotations

from migguard.fleet.report import ResultRow, render_markdown, render_table, summary_line

ROWS = [ResultRow("eu-1", "canary", "ok", ("0002",)),
        ResultRow("us|2", "wave-1", "unreachable", (), "PG_US is not set"),
        ResultRow("ap_3", "wave-1", "drifted", ("0002", "0003"), "table *rogue*\nsecond line")]


def test_summary_puts_what_needs_attention_first():
    assert summary_line(ROWS) == "3 target(s): 1 unreachable, 1 drifted, 1 ok"
    assert summary_line([]) == "0 target(s)"


def test_markdown_one_row_per_target_in_order_with_cells_escaped():
    lines = render_markdown(ROWS, "rollout").splitlines()
    assert lines[0] == "## rollout" and lines[2] == "**3 target(s): 1 unreachable, 1 drifted, 1 ok**"
    assert lines[4:6] == ["| Target | Group | Status | Migrations | Details |", "| --- | --- | --- | --- | --- |"]
    assert lines[6] == "| eu-1 | canary | ok | 0002 | – |"
    assert lines[7] == "| us\\|2 | wave-1 | **unreachable** | – | PG\\_US is not set |"
    assert lines[8] == "| ap\\_3 | wave-1 | **drifted** | 0002, 0003 | table \\*rogue\\* second line |"
    assert len(lines) == 9


def test_plain_table_pads_columns_and_escapes_control_characters():
    text = render_table(("A", "LONGER"), [("x\x1b[31m", "1"), ("yy", "22")])
    assert text.splitlines() == ["A          LONGER", "x\\x1b[31m  1", "yy         22"]
