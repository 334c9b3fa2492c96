"""What the templates draw a table from: plain, already formatted cells. The sections build
these; ``templates/macros.html.j2`` renders them, escaping every text."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    heading: str
    #: shown under the heading, muted ("dB", "ms")
    unit: str = ""
    tip: str = ""
    numeric: bool = True


@dataclass(frozen=True)
class Cell:
    text: str
    tip: str = ""
    numeric: bool = True
    #: a row's name: a <th> (the first column of most tables)
    header: bool = False
    #: an in-page link ("#bd-warning-2")
    href: str = ""
    #: long text that wraps (a definition, an error)
    wrap: bool = False


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    cls: str = ""
    #: data-* attributes, e.g. {"setting": "jpeg:quality=75"}
    data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    ident: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    cls: str = ""
    data: dict[str, str] = field(default_factory=dict)
    #: a long table: it scrolls inside its box, header held, so its scrollbar stays on screen
    tall: bool = False


def text_cell(value, **kw) -> Cell:
    return Cell("" if value is None else str(value), numeric=False, **kw)
