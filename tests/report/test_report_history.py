"""Reports over 30 days against a real Prometheus holding synthetic history (tests/report/reportkit.py):
exact availability figures, outages with start / end / duration, the HTML chart, the construction
counts from a real state store, and every rejected input as one line."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govnet.report.window import local
from govnet.rollout import runs
from govnet.state.db import connect
from tests.helpers import DATA
from tests.report.reportkit import DAY, END, HistoryPrometheus

STEP = "30m"
POINTS = 30 * 48  # a point per 30 minutes over 30 days


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HistoryPrometheus]:
    prom = HistoryPrometheus(tmp_path_factory.mktemp("history"))
    try:
        yield prom
    finally:
        prom.stop()


def report(govnet: Any, prom: HistoryPrometheus, *args: str) -> Any:
    result = govnet(
        "report",
        "availability",
        "--since",
        "30d",
        "--end",
        str(END),
        "--step",
        STEP,
        "--prometheus",
        prom.url,
        *args,
    )
    assert result.code == 0, result.err
    return result


def test_availability_figures_are_exact(govnet: Any, prometheus: HistoryPrometheus) -> None:
    data = json.loads(report(govnet, prometheus, "--json").out)
    assert data["start"] == END - 30 * DAY and data["end"] == END and data["step_seconds"] == 1800
    units = {(u["segment"], u["unit"]): u for u in data["units"]}
    # zl-wanjin: 6 h + 30 min down = 13 of 1,440 half-hours
    assert units[("party", "zl-wanjin")]["availability"] == pytest.approx(1 - 13 / POINTS)
    assert units[("party", "zl-wanjin")]["down_seconds"] == 6.5 * 3600
    assert units[("party", "zl-wanjin")]["outages"] == 2
    assert units[("party", "zl-wanjin")]["name"] == "召陵区万金镇党委"
    assert units[("intranet", "sz-caizheng")]["availability"] == pytest.approx(1 - 2 / POINTS)
    assert units[("party", "sz-fagaiwei")]["availability"] == 1.0
    # the node exported by both shards is one series, not two
    assert units[("party", "core-city")]["availability"] == 1.0 and units[("party", "core-city")]["node"]
    segments = {s["segment"]: s for s in data["segments"]}
    # party: 2 units, one of them down 13 points: the city-wide mean is 1 - 0.5 * 13 / 1440
    assert segments["party"]["availability"] == pytest.approx(1 - 0.5 * 13 / POINTS)
    assert segments["party"]["lowest"] == 0.5
    assert segments["party"]["units"] == 2 and segments["party"]["units_down"] == 1
    assert segments["intranet"]["availability"] == pytest.approx(1 - 0.5 * 2 / POINTS)
    assert segments["party"]["source"] == "raw"  # no recording rules over backfilled history
    assert len(segments["party"]["series"]) == POINTS
    outages = [(o["unit"], o["start"], o["end"], o["duration"]) for o in data["outages"]]
    assert outages == [
        ("zl-wanjin", END - 10 * DAY, END - 10 * DAY + 6 * 3600, 6 * 3600),
        ("zl-wanjin", END - 2 * DAY, END - 2 * DAY + 1800, 1800),
        ("sz-caizheng", END - 3600, None, 3600),
    ]
    assert data["worst"] == ["zl-wanjin", "sz-caizheng"]


def cst(moment: float) -> str:
    """A time as the reports show it for the shipped site (Asia/Shanghai, the zone named)."""
    return local(moment, "Asia/Shanghai")


def test_markdown_names_units_and_outages(govnet: Any, prometheus: HistoryPrometheus) -> None:
    text = report(govnet, prometheus).out
    assert "| party | 99.549 % | 50.0 % | 2 | 1 |" in text
    assert (
        f"| 召陵区万金镇党委 (zl-wanjin) | party | {cst(END - 10 * DAY)} | {cst(END - 10 * DAY + 6 * 3600)} | 6h 0m |"
        in text
    )
    assert f"| 测试市财政局 (sz-caizheng) | intranet | {cst(END - 3600)} | 持续中 ongoing | 1h 0m |" in text
    assert text.splitlines()[0].endswith(f"{cst(END - 30 * DAY)} – {cst(END)}") and " CST" in cst(END)


def test_times_follow_the_inventory_s_timezone(
    govnet: Any, prometheus: HistoryPrometheus, tmp_path: Path
) -> None:
    site = tmp_path / "inventory.yml"
    site.write_text(
        (DATA / "valid" / "minimal.yml")
        .read_text()
        .replace("  management:", "  timezone: Asia/Urumqi\n  management:", 1)
    )
    text = report(govnet, prometheus, "--inventory", str(site)).out
    assert f"| {local(END - 3600, 'Asia/Urumqi')} | 持续中 ongoing |" in text and "+06" in text


def test_segment_filter_and_csv(govnet: Any, prometheus: HistoryPrometheus) -> None:
    rows = list(
        csv.DictReader(io.StringIO(report(govnet, prometheus, "--segment", "party", "--format", "csv").out))
    )
    assert {r["segment"] for r in rows} == {"party"}
    first = next(r for r in rows if r["record"] == "outage")
    assert first["start"].endswith("+08:00"), "CSV times carry the site's offset"
    outages = [r for r in rows if r["record"] == "outage"]
    assert [(r["unit"], r["down_seconds"]) for r in outages] == [
        ("zl-wanjin", "21600"),
        ("zl-wanjin", "1800"),
    ]
    unit = next(r for r in rows if r["record"] == "unit" and r["unit"] == "zl-wanjin")
    assert float(unit["availability_ratio"]) == pytest.approx(1 - 13 / POINTS, abs=1e-6)


def test_html_is_self_contained_with_a_chart_per_segment(
    govnet: Any, prometheus: HistoryPrometheus, tmp_path: Path
) -> None:
    out = tmp_path / "availability.html"
    report(govnet, prometheus, "--format", "html", "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in page and "召陵区万金镇党委" in page
    assert page.count("<svg") == 2 and page.count("<polyline") >= 2
    for remote in ("<script", "http://", "https://", "src=", "@import", "url("):
        assert remote not in page.replace(prometheus.url, "").replace(
            'xmlns="http://www.w3.org/2000/svg"', ""
        )


def test_a_window_without_data_says_so(govnet: Any, prometheus: HistoryPrometheus) -> None:
    result = govnet(
        "report",
        "availability",
        "--since",
        "1d",
        "--end",
        str(END - 40 * DAY),
        "--prometheus",
        prometheus.url,
    )
    assert result.code == 1
    # lines naming a URL are printed as they are (the CLI takes "X:Y: " for a FILE:LINE place)
    assert result.err.strip().removeprefix("govnet: ") == (
        f"no govnet data in Prometheus at {prometheus.url} over the last 1d 0h: "
        "is it scraping a govnet daemon (job govnet)?"
    )
    seg = govnet(
        "report",
        "availability",
        "--since",
        "30d",
        "--segment",
        "extranet",
        "--end",
        str(END),
        "--prometheus",
        prometheus.url,
    )
    assert seg.code == 1 and "on segment extranet" in seg.err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["--since", "30x"],
            2,
            "govnet: --since '30x': expected a positive duration such as 30d, 12h, 90m, 2w",
        ),
        (
            ["--since", "0d"],
            2,
            "govnet: --since '0d': expected a positive duration such as 30d, 12h, 90m, 2w",
        ),
        (
            ["--since", "1d", "--segment", "dmz"],
            2,
            "govnet: unknown segment 'dmz' (segments: intranet, party, extranet)",
        ),
        (
            ["--since", "1d", "--end", "yesterday"],
            2,
            "govnet: --end 'yesterday': expected unix seconds or a time like 2026-11-01T08:00:00Z",
        ),
        (["--since", "30d", "--step", "1s"], 1, "choose a larger --step"),
        (
            ["--since", "1d", "--prometheus", "ftp://x"],
            2,
            "--prometheus 'ftp://x': expected an http:// or https:// URL",
        ),
    ],
)
def test_bad_input_is_one_line(govnet: Any, args: list[str], code: int, message: str) -> None:
    result = (
        govnet("report", "availability", *args, "--prometheus", "http://127.0.0.1:9")
        if "--prometheus" not in args
        else govnet("report", "availability", *args)
    )
    assert result.code == code, result.err
    assert len(result.err.strip().splitlines()) == 1 and message in result.err, result.err
    assert result.out == ""


def test_prometheus_unreachable_is_one_line(govnet: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    result = govnet(
        "report", "availability", "--since", "1d", "--prometheus", "http://127.0.0.1:9", "--out", str(out)
    )
    assert result.code == 1
    assert (
        result.err.strip()
        .removeprefix("govnet: ")
        .startswith("cannot reach Prometheus at http://127.0.0.1:9: ")
    )
    assert len(result.err.strip().splitlines()) == 1
    assert not out.exists()


def state_store(directory: Path) -> Path:
    """Rollouts as the store records them: party applied (one unit failed), intranet applied then rolled back."""
    with connect(directory) as conn:
        party = runs.create(
            conn,
            "apply",
            None,
            None,
            {"segment": "party"},
            {},
            [
                ("sz-fagaiwei", "FGW-AS01", 1, []),
                ("zl-wanjin", "WJ-AS01", 1, []),
                ("sz-caizheng", "CZ-AS01", 1, []),
            ],
        )
        for unit, device, result in (
            ("sz-fagaiwei", "FGW-AS01", "changed"),
            ("zl-wanjin", "WJ-AS01", "ok"),
            ("sz-caizheng", "CZ-AS01", "failed"),
        ):
            runs.set_phase(conn, party, unit, device, "done", result=result)
        runs.finish(conn, party, "done")
        time.sleep(0.01)
        intranet = runs.create(
            conn, "apply", None, None, {"segment": "intranet"}, {}, [("sz-fagaiwei", "FGW-AS01", 1, [])]
        )
        runs.set_phase(conn, intranet, "sz-fagaiwei", "FGW-AS01", "done", result="changed")
        runs.finish(conn, intranet, "done")
        time.sleep(0.01)
        back = runs.create(
            conn,
            "rollback",
            None,
            None,
            {"of": intranet, "segment": "intranet"},
            {},
            [("sz-fagaiwei", "FGW-AS01", 1, [])],
        )
        runs.set_phase(conn, back, "sz-fagaiwei", "FGW-AS01", "done", result="ok")
        runs.finish(conn, back, "done")
    return directory


def test_construction_counts(govnet: Any, prometheus: HistoryPrometheus, tmp_path: Path) -> None:
    state = state_store(tmp_path / "state")
    inventory = str(DATA / "valid" / "minimal.yml")
    base = [
        "report",
        "construction",
        "--inventory",
        inventory,
        "--state",
        str(state),
        "--at",
        str(END),
        "--prometheus",
        prometheus.url,
    ]
    data = json.loads(govnet(*base, "--json").out)
    rows = {r["label"]: (r["units"], r["configured"], r["not_built"], r["verified_up"]) for r in data["rows"]}
    assert rows == {
        # sz-caizheng down at the end and never built; the intranet rollout was rolled back (built once)
        "intranet": (2, 0, 1, 1),
        # sz-caizheng's push failed (not built); zl-wanjin's pending sample is stale; no up data for sz-caizheng
        "party": (3, 2, 1, 2),
        "extranet": (1, 0, 1, 0),
        "extranet wave 1": (1, 0, 1, 0),  # core-city, pending too, is a node: not counted
    }
    text = govnet(*base).out
    assert (
        "| 网络 segment | 单位 units | 已配置 configured | 未建 not yet built | 已验证在线 verified up |"
        in text
    )
    assert "| party | 3 | 2 (66.7 %) | 1 (33.3 %) | 2 (66.7 %) |" in text
    assert text.startswith(f"# 建设进度 Construction progress, {cst(END)}")  # minimal.yml: default zone
    html = govnet(*base, "--format", "html").out
    assert html.count("<svg") == 12 and "<script" not in html
    assert "<th>未建 not yet built</th>" in html and "<td class='n'>1 (33.3 %)</td>" in html
    table = list(csv.DictReader(io.StringIO(govnet(*base, "--format", "csv").out)))
    assert [(r["segment"], r["wave"], r["not_built"]) for r in table] == [
        ("intranet", "", "1"),
        ("party", "", "1"),
        ("extranet", "", "1"),
        ("extranet", "1", "1"),
    ]


def test_not_yet_built_as_of_an_earlier_time(
    govnet: Any, prometheus: HistoryPrometheus, tmp_path: Path
) -> None:
    """25 days before the end sz-fagaiwei's intranet part and zl-wanjin's party part were still to build."""
    result = govnet(
        "report",
        "construction",
        "--inventory",
        str(DATA / "valid" / "minimal.yml"),
        "--state",
        str(state_store(tmp_path / "state")),
        "--at",
        str(END - 25 * DAY),
        "--prometheus",
        prometheus.url,
        "--json",
    )
    assert result.code == 0, result.err
    built = {r["label"]: r["not_built"] for r in json.loads(result.out)["rows"]}
    assert built == {"intranet": 2, "party": 2, "extranet": 1, "extranet wave 1": 1}


def test_construction_without_state_warns(govnet: Any, prometheus: HistoryPrometheus, tmp_path: Path) -> None:
    result = govnet(
        "report",
        "construction",
        "--inventory",
        str(DATA / "valid" / "minimal.yml"),
        "--state",
        str(tmp_path / "none"),
        "--at",
        str(END),
        "--prometheus",
        prometheus.url,
        "--json",
    )
    assert result.code == 0
    assert (
        result.err.strip()
        == f"warning: no rollout state in {tmp_path / 'none'}: no unit counted as configured"
    )
    assert not (tmp_path / "none").exists()
    assert all(r["configured"] == 0 for r in json.loads(result.out)["rows"])
