"""Plain-text tables for the terminal, and text made safe to print there.

Ids, names and texts come from imported files. A control character in one (an escape
sequence that clears the screen or recolours it, a carriage return that overwrites a line)
or a bidirectional override (which shows ``exe.txt`` for ``txt.exe``) would act on the
terminal instead of being shown. New ids and names with such characters are refused when
they are added (the Rust store's ``check_name``); what is printed is escaped here anyway,
for pools written before that check and for sample texts, which may hold anything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["format_table", "terminal_safe"]

# C0 and C1 controls, DEL, and the invisible format characters the store refuses in names.
_HIDDEN = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb"
)
_IN_TEXT = re.compile(f"[{_HIDDEN}]")
_IN_CELL = re.compile(f"[\t\n{_HIDDEN}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str, *, one_line: bool = False) -> str:
    """``text`` with control and invisible characters written as escapes (``\\x1b``,
    ``\\u202e``); with ``one_line``, tabs and newlines too."""
    return (_IN_CELL if one_line else _IN_TEXT).sub(_escape, text)


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    """Columns padded to their widest cell; ``align`` has one 'l' or 'r' per column.
    Cells are escaped with :func:`terminal_safe` (one line each)."""
    header = [terminal_safe(cell, one_line=True) for cell in header]
    rows = [[terminal_safe(cell, one_line=True) for cell in row] for row in rows]
    widths = [len(cell) for cell in header]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    align = align.ljust(len(header), "l")

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(width) if side == "r" else cell.ljust(width)
            for cell, width, side in zip(cells, widths, align, strict=True)
        ]
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])
