"""Export what a tab shows: tables as CSV, the analysis on screen as JSON, each as a download link.

Pure functions over the values the page holds (figures as plotly JSON, tables as headers and
rows, a label's confidences, highlighted tokens); ``explorer.ui.export`` collects them from a
tab and the page downloads figures as PNG or SVG itself (plotly.js's ``downloadImage``).

The JSON holds each figure's data with its typed arrays decoded (tokens on the axes, the
attention of the layer and head on screen as ``z``), the tables as records, the prediction and
the highlighted tokens.
"""

from __future__ import annotations

import base64
import csv
import datetime
import html
import io
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from .views import decode_array

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such a
# cell is written with a leading apostrophe, which spreadsheets show as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TRACE_FIELDS = ("type", "name", "x", "y", "z", "text", "customdata")
SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def plain(value: Any) -> Any:
    """JSON-ready: typed arrays (``{"dtype", "bdata"}``) decoded to nested lists, numpy scalars to numbers."""
    if isinstance(value, dict) and "bdata" in value and "dtype" in value:
        return decode_array(value).tolist()
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    return value


def figure_record(spec: dict | str) -> dict:
    """A figure's title and traces (type, name, x, y, z, text), from its plotly JSON."""
    spec = json.loads(spec) if isinstance(spec, str) else spec
    layout = spec.get("layout") or {}
    title = layout.get("title")
    title = title.get("text") if isinstance(title, dict) else title
    traces = [{key: plain(trace[key]) for key in TRACE_FIELDS if key in trace} for trace in spec.get("data") or []]
    return {"title": title or "", "traces": traces}


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def table_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A table as CSV text (RFC 4180 quoting; cells a spreadsheet would run as formulas made text)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(str(header)) for header in headers])
    for row in rows:
        writer.writerow([safe_cell(plain(cell)) for cell in row])
    return out.getvalue()


def analysis_json(
    tab: str,
    figures: Sequence[dict | str] = (),
    tables: Sequence[tuple[Sequence[str], Sequence[Sequence[Any]]]] = (),
    labels: Sequence[dict] = (),
    highlights: Sequence[Sequence[Any]] = (),
    notes: Sequence[str] = (),
) -> str:
    """Everything a tab shows, as one JSON document."""
    document = {
        "tab": tab,
        "notes": [note for note in notes if note],
        "figures": [figure_record(spec) for spec in figures],
        "tables": [[dict(zip(map(str, headers), map(plain, row), strict=False)) for row in rows] for headers, rows in tables],
        "predictions": [plain(label) for label in labels],
        "highlighted": [plain(pieces) for pieces in highlights],
    }
    return json.dumps(document, ensure_ascii=False, indent=1)


def file_name(tab: str, what: str, extension: str, stamp: str = "") -> str:
    """``tab-what[-stamp].extension``; the stamp (the export's time) keeps a second export from
    overwriting or renaming the first in the downloads folder."""
    tail = f"-{SAFE_NAME.sub('-', stamp)}" if stamp else ""
    return f"{SAFE_NAME.sub('-', tab)}-{SAFE_NAME.sub('-', what)}{tail}.{extension}"


def time_stamp(moment: datetime.datetime | None = None) -> str:
    """The export's local time as ``YYYYMMDD-HHMMSS`` (the page's figures use the same form)."""
    return (moment or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")


def download_links(files: Sequence[tuple[str, str, str]]) -> str:
    """HTML download links (``data:`` addresses) for ``(file name, MIME type, text)`` triples."""
    links = []
    for name, mime, text in files:
        address = f"data:{mime};charset=utf-8;base64,{base64.b64encode(text.encode('utf-8')).decode('ascii')}"
        shown = html.escape(name)
        links.append(f'<a class="export-link" download="{shown}" href="{address}">↓ {shown}</a>')
    return " &nbsp; ".join(links)
