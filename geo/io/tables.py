"""Tables written for people to open: CSV (UTF-8 with BOM) and Excel cells made safe.

One rule for every table the service writes (HTTP ``format=csv`` / ``xlsx`` answers and
``export`` files alike):

- **UTF-8 with a byte-order mark**, so Excel shows Chinese names correctly;
- **whole people**: counts of people (``residents…``, ``households…``, ``elderly…``) are
  rounded to integers — a grid apportioned 12.4 residents shows 12;
- **formula injection neutralised**: a text cell starting with ``=``, ``+``, ``-``, ``@``,
  a tab or a carriage return gets a leading apostrophe, so a spreadsheet shows it as
  text instead of running it (OWASP "CSV injection");
- missing, NaN and infinite values are empty cells; lists are joined with ``;``.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

BOM = "\ufeff"
#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Columns counting people: ``residents``, ``households_in``, ``elderly`` …
PEOPLE = re.compile(r"^(residents|households|elderly|target|age_0_14|age_15_59)(_|$)")


def is_people(column: str) -> bool:
    """Whether ``column`` counts people (shown as whole numbers)."""
    return bool(PEOPLE.match(column)) and not column.startswith(("residents_share",
                                                                 "households_share",
                                                                 "target_share",
                                                                 "target_group"))


def safe_text(value: str) -> str:
    """``value`` with a leading apostrophe if a spreadsheet would take it for a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def cell(column: str, value: Any) -> Any:
    """One value as a table cell (see the module rules); ``None`` for an empty cell."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return safe_text(";".join(str(v) for v in value))
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (int, float)):
        return math.floor(value + 0.5) if is_people(column) else value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, str):
        return safe_text(value)
    return safe_text(str(value))


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]],
             headers: Sequence[str] | None = None) -> str:
    """A CSV document (BOM, header, one line per row) of ``rows`` by ``columns``; the
    header line shows ``headers`` (e.g. labels) if given, else the column names."""
    buf = io.StringIO()
    buf.write(BOM)
    writer = csv.writer(buf)
    writer.writerow([safe_text(c) for c in (headers or columns)])
    for r in rows:
        writer.writerow(["" if (v := cell(c, r.get(c))) is None else v for c in columns])
    return buf.getvalue()


def xlsx_bytes(columns: Sequence[str], rows: Iterable[Mapping[str, Any]],
               headers: Sequence[str] | None = None, *, sheet: str = "Sheet1") -> bytes:
    """An Excel workbook (.xlsx, one sheet) of ``rows`` by ``columns``, cells by the
    rules of this module (whole people, formulas neutralised); header as in
    :func:`csv_text`."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    ws.append([safe_text(c) for c in (headers or columns)])
    for r in rows:
        ws.append([cell(c, r.get(c)) for c in columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every cell made safe (for CSV and Excel files)."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        out[col] = pd.Series([cell(str(col), v) for v in df[col].tolist()], index=df.index,
                             dtype=object)
    return out
