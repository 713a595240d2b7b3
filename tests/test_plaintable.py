"""govnet.cli.plaintable lays tables out exactly as rich does, or leaves them to rich.

Compared with rich itself on generated tables: ASCII, Chinese (two cells a character), empty
cells, markup-like brackets, combining marks, lines too long for the width.
"""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table

from govnet.cli import plaintable

TEXT = st.text(
    alphabet=st.sampled_from([*"az09-._/ ", "洛", "漯", "河", "（", "é", "[", "\u0301", "①"]), max_size=12
)


def rich_lines(columns: list[str], rows: list[list[str]], width: int) -> list[str]:
    """What govnet.cli.common.table printed through rich alone, on a console this wide."""
    table = Table(title=None, show_lines=False, header_style="bold", box=None, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    out = io.StringIO()
    Console(file=out, highlight=False, soft_wrap=False, width=width).print(table)
    return out.getvalue().splitlines()


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=5).flatmap(
        lambda n: st.tuples(
            st.lists(TEXT.filter(lambda t: t.strip() == t and t != ""), min_size=n, max_size=n),
            st.lists(st.lists(TEXT, min_size=n, max_size=n), max_size=6),
        )
    ),
    st.sampled_from([20, 80, 200]),
)
def test_the_same_lines_as_rich_or_none(table: tuple[list[str], list[list[str]]], width: int) -> None:
    columns, rows = table
    lines = plaintable.render(columns, rows, width)
    if lines is not None:
        assert lines == rich_lines(columns, rows, width)


def test_the_inventory_listing_is_laid_out_without_rich() -> None:
    columns = ["id", "name", "kind"]
    rows = [["sz-fagaiwei", "漯河市发展和改革委员会", "bureau"], ["zl-wanjin", "召陵区万金镇", "township"]]
    lines = plaintable.render(columns, rows, 200)
    assert lines is not None and lines == rich_lines(columns, rows, 200)


def test_what_rich_must_lay_out_is_left_to_it() -> None:
    assert plaintable.render(["a"], [["[bold]x"]], 80) is None  # markup
    assert plaintable.render(["a", "b"], [["x" * 50, "y" * 50]], 80) is None  # folds
    assert plaintable.render(["a"], [["e\u0301"]], 80) is None  # a combining mark
    assert plaintable.render(["a", "b"], [["only one"]], 80) is None
