"""Console tables (rich) that never cut an id: the CLI's one way to print a table.

Columns named in ``whole`` (ids, kinds, times) are never wrapped nor truncated: their minimum
width is their longest cell. Other columns fold long text, but keep at least their longest word
(up to ``word_cap`` characters) so no column collapses to a sliver. Off a terminal (pipes, files,
tests) the table is printed at its natural width, so nothing depends on an 80-column default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from rich.table import Table

_MARKUP = re.compile(r"\[/?[a-z #0-9]*\]")


def _plain(cell: Any) -> str:
    return _MARKUP.sub("", str(cell))


def make_table(
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    whole: Iterable[str] = (),
    right: Iterable[str] = (),
    word_cap: int = 20,
) -> Table:
    """A rich ``Table`` of ``rows`` (cells are str or rich markup) under ``columns``.

    ``whole``: columns never wrapped or cut; ``right``: right-aligned columns (numbers).
    """
    rows = [[str(c) for c in r] for r in rows]
    keep, rjust = set(whole), set(right)
    t = Table(title=title)
    for i, name in enumerate(columns):
        cells = [_plain(r[i]) for r in rows]
        if name in keep:
            width = max([len(name), *(len(c) for c in cells)])
            t.add_column(
                name, no_wrap=True, min_width=width, justify="right" if name in rjust else "left"
            )
        else:
            words = [len(w) for c in cells for w in c.split()] or [0]
            width = min(max(len(name.split()[0]) if name else 0, *words), word_cap)
            t.add_column(
                name, overflow="fold", min_width=width, justify="right" if name in rjust else "left"
            )
    for r in rows:
        t.add_row(*r)
    return t


def fit_width(table: Table, width: int) -> Table:
    """Lower the minimum width of foldable columns (widest first) until ``table`` fits ``width``
    characters, or they are one character wide; columns that must stay whole keep theirs."""
    from rich.console import Console

    console = Console(width=width)
    wide = console.options.update_width(10_000)  # measure unclamped by the console's width
    foldable = [c for c in table.columns if not c.no_wrap]
    while foldable and console.measure(table, options=wide).minimum > width:
        widest = max(foldable, key=lambda c: c.min_width or 0)
        if (widest.min_width or 0) <= 1:
            break
        widest.min_width = (widest.min_width or 1) - 1
    return table


def print_table(table: Table, stderr: bool = False, width: int | None = None) -> None:
    """Print ``table`` at ``width`` characters if given, else at the terminal's width on a
    terminal and at the table's natural width (80 to 400 characters) elsewhere."""
    from rich.console import Console

    console = Console(stderr=stderr, width=width)
    if width is None and not console.is_terminal:
        natural = console.measure(table, options=console.options.update_width(10_000)).maximum
        console = Console(stderr=stderr, width=max(80, min(natural, 400)))
    console.print(fit_width(table, console.width))
