"""An "Export" accordion at the foot of every tab: its figures as PNG or SVG (downloaded by the page,
plotly.js's ``downloadImage``, one file a figure), its tables as CSV and what it shows as JSON
(download links, in a Markdown block, made on the server from the values on screen, ``explorer.export``)."""

from __future__ import annotations

import json

import gradio as gr

from .. import export
from ..messages import Msg
from .common import T, TabHandle, guarded, notes_status
from .i18n import current_language
from .lazy import distinct

EXPORTED = (gr.Plot, gr.Dataframe, gr.Label, gr.HighlightedText, gr.Markdown)


def download_js(tab_id: str, image_format: str) -> str:
    """Browser code: download every drawn figure of the tab; returns how many (the status line says so)."""
    return f"""() => {{
  const plots = [...document.querySelectorAll({json.dumps("#" + tab_id + " .js-plotly-plot")})]
    .filter(plot => plot.querySelector('.main-svg') && plot.offsetParent !== null);
  const now = new Date(), two = (n) => String(n).padStart(2, '0');  // as export.time_stamp: YYYYMMDD-HHMMSS
  const stamp = [now.getFullYear(), two(now.getMonth() + 1), two(now.getDate()), '-',
                 two(now.getHours()), two(now.getMinutes()), two(now.getSeconds())].join('');
  if (window.Plotly) plots.forEach((plot, i) => window.Plotly.downloadImage(plot, {{
    format: {json.dumps(image_format)}, filename: {json.dumps(tab_id)} + '-' + (i + 1) + '-' + stamp,
    width: plot.clientWidth || 900, height: plot.clientHeight || 500, scale: {2 if image_format == "png" else 1}}}));
  return [window.Plotly ? plots.length : 0];
}}"""


def _plot_json(value) -> str | dict | None:
    plot = getattr(value, "plot", None) if not isinstance(value, dict) else value.get("plot", value)
    return plot if isinstance(plot, str | dict) else None


def build(tab_id: str, handle: TabHandle) -> None:
    """The accordion, for the tab whose handle it is (its outputs are what is exported)."""
    _, _, outputs = handle.run
    shown = handle.shown[2] if handle.shown else []
    sources = [c for c in distinct(outputs, shown) if isinstance(c, EXPORTED)]
    for source in sources:  # an input of an event is made editable by gradio (a table then offered "drop a CSV here")
        if getattr(source, "interactive", None) is None:
            source.interactive = False
    with gr.Accordion(T("export.accordion"), open=False, elem_classes=["export"]):
        with gr.Row():
            png = gr.Button(T("export.png"), min_width=120)
            svg = gr.Button(T("export.svg"), min_width=120)
            data = gr.Button(T("export.data"), min_width=120)
        message = gr.Markdown()
        links = gr.Markdown(elem_classes=["export-links"], sanitize_html=False)  # data: links, built from escaped names only

    def images(count, image_format: str) -> str:
        figures = int(count) if str(count).isdigit() else 0
        said = Msg("export.images" if figures else "export.no_figures", count=figures, format=image_format.upper())
        return notes_status([said], current_language())

    @guarded(2)
    def files(*values):
        figures, tables, labels, highlights, notes = [], [], [], [], []
        for component, value in zip(sources, values, strict=True):
            if value is None:
                continue
            if isinstance(component, gr.Plot) and _plot_json(value) is not None:
                figures.append(_plot_json(value))
            elif isinstance(component, gr.Dataframe) and hasattr(value, "columns") and len(value):
                tables.append(([str(c) for c in value.columns], value.values.tolist()))
            elif isinstance(component, gr.Label):
                labels.append(value)
            elif isinstance(component, gr.HighlightedText):
                highlights.append(value)
            elif isinstance(component, gr.Markdown):
                notes.append(str(value))
        stamp = export.time_stamp()
        found = [
            (export.file_name(tab_id, f"table-{i + 1}", "csv", stamp), "text/csv", export.table_csv(h, rows))
            for i, (h, rows) in enumerate(tables)
        ]
        document = export.analysis_json(tab_id, figures, tables, labels, highlights, notes)
        found.append((export.file_name(tab_id, "analysis", "json", stamp), "application/json", document))
        said = Msg("export.files", tables=len(tables), figures=len(figures))
        return notes_status([said], current_language()), export.download_links(found)

    private = dict(api_visibility="private")
    png.click(lambda count: images(count, "png"), message, message, js=download_js(tab_id, "png"), **private)
    svg.click(lambda count: images(count, "svg"), message, message, js=download_js(tab_id, "svg"), **private)
    data.click(files, sources, [message, links], **private)
