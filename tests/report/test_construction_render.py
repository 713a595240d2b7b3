"""The construction report's forms (Markdown, HTML, CSV, JSON) all carry the units not yet built
(未建), with Chinese heads and the English beside them; the counts themselves are proven against
a real Prometheus in test_report_history.py and test_report_lab.py."""

from __future__ import annotations

import csv
import io
import json

from govnet.report import page, text
from govnet.report.construction import ConstructionReport, Counts, Row

REPORT = ConstructionReport(
    "http://127.0.0.1:9090",
    "/var/lib/govnet",
    1_790_000_000.0,
    [Row("party", None, 4, 1, 3, 2), Row("extranet", 2, 5, 0, 0, 5)],
    True,
    "Asia/Shanghai",
)


def test_counts_only_the_rows_members_once() -> None:
    counts = Counts(
        {"party": {"a"}},
        {"party": {"a", "b"}},
        {"party": {"b", "c", "node"}, "intranet": {"a"}},
    )
    assert counts.row("party", None, ["a", "b", "c"]) == Row("party", None, 3, 1, 2, 2)
    assert counts.row("intranet", None, ["a"]).not_built == 1
    assert Counts(None, {}, {}).row("extranet", 1, ["a"]) == Row("extranet", 1, 1, 0, 0, 0)


def test_markdown_has_a_not_yet_built_column() -> None:
    lines = text.construction_md(REPORT).splitlines()
    assert (
        "| 网络 segment | 单位 units | 已配置 configured | 未建 not yet built | 已验证在线 verified up |"
        in lines
    )
    assert "| party | 4 | 1 (25.0 %) | 2 (50.0 %) | 3 (75.0 %) |" in lines
    assert "| extranet wave 2 | 5 | 0 (0.0 %) | 5 (100.0 %) | 0 (0.0 %) |" in lines
    assert any(
        line.startswith("Configured: rollout state in /var/lib/govnet. Not yet built") for line in lines
    )


def test_html_heads_are_chinese_and_english_with_a_bar_per_count() -> None:
    html = page.construction_html(REPORT)
    for head in (
        "网络 segment",
        "单位 units",
        "已配置 configured",
        "未建 not yet built",
        "已验证在线 verified up",
    ):
        assert f"<th>{head}</th>" in html
    assert html.count("<svg") == 6 and "<script" not in html
    assert "<td class='n'>2 (50.0 %)</td>" in html and "<td class='n'>5 (100.0 %)</td>" in html


def test_csv_and_json_carry_not_built() -> None:
    table = list(csv.DictReader(io.StringIO(text.construction_csv(REPORT))))
    assert [(r["segment"], r["wave"], r["not_built"]) for r in table] == [
        ("party", "", "2"),
        ("extranet", "2", "5"),
    ]
    rows = json.loads(json.dumps(text.construction_json(REPORT)))["rows"]
    assert [(r["label"], r["not_built"]) for r in rows] == [("party", 2), ("extranet wave 2", 5)]
