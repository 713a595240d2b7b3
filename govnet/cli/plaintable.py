"""The tables of ``govnet.cli.common.table`` as rich prints them, without rich where that is easy.

rich took ~0.1 s to lay out ``govnet inventory list``'s 146 rows (and ~40 ms to import), a third
of a read command's start-up (bench/README.md, "Start-up"). Most tables are plain: text of
known width that fits the line. Those are laid out here, character for character as rich's
``Table(box=None, pad_edge=False)`` lays them out (tests/test_plaintable.py compares the two);
anything else (a title, markup, a line too long to fit, a character of uncertain width) is
left to rich.
"""

from __future__ import annotations

import unicodedata

SEPARATOR = "  "
"""rich's default cell padding (0, 1) with the outer edge left off: two spaces between columns."""


def char_width(char: str) -> int | None:
    """Terminal cells of ``char``: 1 or 2, or None where terminals disagree (rich decides then).

    >>> char_width("a"), char_width("局"), char_width("\\u0301"), char_width("\\t")
    (1, 2, None, None)
    """
    if not char.isprintable() or unicodedata.combining(char):
        return None
    kind = unicodedata.east_asian_width(char)
    if kind in ("W", "F"):
        return 2
    return 1 if kind in ("Na", "H", "N") and ord(char) < 0x1F000 else None


def cell_width(text: str) -> int | None:
    """
    >>> cell_width("洛阳 ok"), cell_width("[bold]x")
    (7, None)
    """
    if "[" in text:  # rich markup, or a bracket rich might read as markup
        return None
    total = 0
    for char in text:
        width = char_width(char)
        if width is None:
            return None
        total += width
    return total


def row_widths(row: list[str]) -> list[int] | None:
    """Each cell's width, or None if any has to be left to rich."""
    out = []
    for cell in row:
        width = cell_width(cell)
        if width is None:
            return None
        out.append(width)
    return out


def render(columns: list[str], rows: list[list[str]], width: int) -> list[str] | None:
    """The table's lines (header first), or None when rich must lay it out.

    >>> render(["id", "名称"], [["a", "洛"], ["bb", "x"]], 80)
    ['id  名称', 'a   洛  ', 'bb  x   ']
    """
    table = [columns, *rows]
    measured = []
    for row in table:
        widths = row_widths(row) if len(row) == len(columns) else None
        if widths is None:
            return None
        measured.append(widths)
    column = [max(widths[i] for widths in measured) for i in range(len(columns))]
    if sum(column) + len(SEPARATOR) * (len(columns) - 1) > width:
        return None
    return [
        SEPARATOR.join(cell + " " * (column[i] - widths[i]) for i, cell in enumerate(row))
        for row, widths in zip(table, measured, strict=True)
    ]
