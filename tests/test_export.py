"""Export (explorer.export): CSV, the analysis as JSON and the download links, on hand-made values."""

from __future__ import annotations

import base64
import csv
import datetime
import io
import json

import numpy as np

from explorer import export
from explorer.views import PlotlySpec, typed_array


def test_a_table_is_csv_with_quoting_and_no_formulas():
    text = export.table_csv(["token", "weight"], [["the", 0.5], ['say "hi", ok', 1], ["=SUM(A1)", -2], ["-bad", None]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["token", "weight"]
    assert rows[1] == ["the", "0.5"]
    assert rows[2] == ['say "hi", ok', "1"]
    assert rows[3] == ["'=SUM(A1)", "-2"]  # a number stays a number; a formula-like text becomes text
    assert rows[4] == ["'-bad", ""]
    assert text.endswith("\r\n")


def test_a_figure_record_decodes_typed_arrays_to_numbers():
    weights = np.array([[0.25, 0.75], [1.0, 0.0]], dtype=np.float32)
    array = typed_array(weights.ravel())
    array["shape"] = "2,2"
    spec = PlotlySpec(
        data=[dict(type="heatmap", x=["a", "b"], y=["a", "b"], z=array, hoverinfo="skip")], layout=dict(title=dict(text="L0 H1"))
    )
    record = export.figure_record(spec.to_json())
    assert record == {
        "title": "L0 H1",
        "traces": [{"type": "heatmap", "x": ["a", "b"], "y": ["a", "b"], "z": [[0.25, 0.75], [1.0, 0.0]]}],
    }


def test_the_analysis_json_holds_figures_tables_predictions_and_tokens():
    figure = {"data": [{"type": "bar", "x": ["[CLS]", "hi"], "y": [0.1, 0.9]}], "layout": {"title": "row"}}
    document = json.loads(
        export.analysis_json(
            "attention",
            figures=[figure],
            tables=[(["token", "id"], [["hi", np.int64(7)]])],
            labels=[{"label": "positive"}],
            highlights=[[("hi", "+")]],
            notes=["ℹ️ done", ""],
        )
    )
    assert document["tab"] == "attention"
    assert document["figures"][0]["traces"][0]["x"] == ["[CLS]", "hi"]
    assert document["tables"] == [[{"token": "hi", "id": 7}]]
    assert document["predictions"] == [{"label": "positive"}]
    assert document["highlighted"] == [[["hi", "+"]]]
    assert document["notes"] == ["ℹ️ done"]


def test_download_links_carry_the_file_and_escape_its_name():
    html = export.download_links([("a<b>.csv", "text/csv", "x,y\r\n日本,1\r\n")])
    assert "<b>" not in html and "a&lt;b&gt;.csv" in html
    address = html.split('href="')[1].split('"')[0]
    assert base64.b64decode(address.split("base64,")[1]).decode("utf-8") == "x,y\r\n日本,1\r\n"


def test_file_names_are_safe():
    assert export.file_name("qa", "table 1/../x", "csv") == "qa-table-1-..-x.csv"
    stamp = export.time_stamp(datetime.datetime(2026, 11, 27, 9, 5, 3))
    assert export.file_name("qa", "analysis", "json", stamp) == "qa-analysis-20261127-090503.json"


def test_exporting_a_tabs_results_leaves_them_read_only():
    """The export button reads the tab's tables, labels and highlights as inputs, and gradio makes an
    event's inputs editable: tables then said "drop a CSV or TSV file here" and highlights were editable."""
    import app

    config = app.build_demo().get_config_file()
    shown = [c for c in config["components"] if c["type"] in ("dataframe", "highlightedtext", "label")]
    assert len(shown) > 10
    assert [c["props"].get("label") for c in shown if c["props"].get("interactive")] == []
