"""bertviz's head view and model view, offline, from a cached analysis.

bertviz (Jesse Vig, Apache-2.0) renders with d3 + jQuery loaded from a CDN through
require.js, and serialises every layer x head x token² weight as decimal text (53 MB
at 128 tokens for MiniLM). Here its JavaScript runs unchanged, with three changes
around it:

* d3 5.7.0 and jQuery 3.7.1 (``assets/vendor/``) are inlined and a two-line ``require``
  shim hands them to bertviz: nothing is fetched from the network;
* the weights travel sparse and compact: per (layer, head, query) row, only weights
  >= a threshold (the lines one could see; bertviz draws each as a line of opacity =
  weight), as uint16 key indices and float16 values, base64; a small decoder rebuilds
  the nested arrays bertviz expects;
* the document is a sandboxed ``<iframe srcdoc>`` (``gr.HTML`` does not run scripts).
  Token strings are user text: the JSON escapes ``<``, ``>`` and ``&`` so ``</script>``
  cannot close the script, bertviz writes tokens with d3's ``.text()``, and the whole
  document is attribute-escaped for ``srcdoc``. The frame may run scripts but has an
  opaque origin (no ``allow-same-origin``), so it cannot reach the app.

bertviz draws one SVG line per token pair, so its views slow the browser down as
layers x heads x tokens² grows: the head view shows one layer (the app's layer slider
picks which, on demand) and at most ``MAX_TOKENS`` tokens; the model view shows as
many layers around the chosen one as fit ``MODEL_VIEW_MAX_LINES``.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from .analysis import Analysis, check_index
from .errors import InputError
from .messages import Msg

VENDOR = Path(__file__).resolve().parent.parent / "assets" / "vendor"
SCRIPTS = ("d3-5.7.0.min.js", "jquery-3.7.1.min.js")
VIEW_SCRIPTS = {"head": "bertviz-1.4.1-head_view.js", "model": "bertviz-1.4.1-model_view.js"}
MAX_TOKENS = 128  # bertviz's SVG (one line per token pair and head) gets sluggish beyond this
MODEL_VIEW_MAX_LINES = 300_000  # layers x heads x tokens² drawn by the model view
DATA_BUDGET_BYTES = 600_000  # attention data per view; the threshold rises until it fits
THRESHOLDS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1)
ROOT_ID = "bertviz-root"

# One colour per head (bertviz uses d3's 10-colour scheme: heads 10 and 11 of a 12-head model looked like
# heads 0 and 1): d3's ten, then six more as far from them and each other as could be found. Also the
# model view's per-layer colours.
HEAD_COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#393b79", "#637939", "#e7ba52", "#000000", "#7b4173", "#aec7e8",
)  # fmt: skip

SHIM = """
// bertviz colours heads from d3.schemeCategory10 (10 colours): hand it HEAD_COLOURS instead.
window.d3.schemeCategory10 = HEAD_COLOURS_JSON;
// bertviz calls require.config({paths: <CDN>}) then requirejs(['jquery', 'd3'], fn):
// ignore the CDN paths and hand it the inlined libraries.
window.require = {config: function () {}};
window.requirejs = function (names, callback) {
  var libs = {jquery: window.jQuery, d3: window.d3};
  callback.apply(null, names.map(function (name) { return libs[name]; }));
};
function bytesOf(b64) {
  var raw = atob(b64), out = new Uint8Array(raw.length);
  for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out.buffer;
}
function half(bits) {  // IEEE 754 binary16 -> number
  var sign = bits & 0x8000 ? -1 : 1, exp = (bits >> 10) & 0x1f, frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * Math.pow(2, -24);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * Math.pow(2, exp - 15);
}
function unpackAttention(packed) {
  // packed.counts[row] entries per (layer, head, query) row, then (key, value) pairs in order.
  var shape = packed.shape, counts = new Uint16Array(bytesOf(packed.counts));
  var keys = new Uint16Array(bytesOf(packed.keys)), values = new Uint16Array(bytesOf(packed.values));
  var cursor = 0, row = 0, layers = [];
  for (var l = 0; l < shape[0]; l++) {
    var heads = [];
    for (var h = 0; h < shape[1]; h++) {
      var queries = [];
      for (var q = 0; q < shape[2]; q++, row++) {
        var weights = new Array(shape[3]).fill(0);
        for (var n = 0; n < counts[row]; n++, cursor++) weights[keys[cursor]] = half(values[cursor]);
        queries.push(weights);
      }
      heads.push(queries);
    }
    layers.push(heads);
  }
  return layers;
}
function unpackParams(params) {
  params.attention.forEach(function (view) { view.attn = unpackAttention(view.packed); delete view.packed; });
  return params;
}
"""

STYLE = """
body { margin: 0; padding: 8px; background: white; color: #111; font-size: 18px; zoom: ZOOM;
       font-family: 'Source Sans Pro', Arial, 'Noto Sans CJK JP', 'IPAPGothic', sans-serif; }
select { font-size: 18px; }
"""
# bertviz's fonts are fixed at 13-15 px; enlarge the whole drawing so a projector can show it.
ZOOM = {"head": 1.35, "model": 1.15}


@dataclass(frozen=True)
class BertvizView:
    """One rendered view: the ``<iframe>`` to show and what it cost to send."""

    html: str
    data_bytes: int  # the packed attention weights
    total_bytes: int  # everything sent: scripts, weights, markup
    threshold: float
    layers: tuple[int, ...]
    n_tokens: int
    notes: tuple[Msg, ...]


@cache
def _vendor(name: str) -> str:
    return (VENDOR / name).read_text(encoding="utf-8")


def safe_json(value: object) -> str:
    """JSON that can sit inside ``<script>``: no ``<``, ``>``, ``&`` or JS line separators."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def pack_attention(weights: np.ndarray, threshold: float) -> dict:
    """Sparse ``(L, H, Q, K)`` weights: row counts, key indices (uint16), values (float16)."""
    if weights.shape[-1] > np.iinfo(np.uint16).max:
        raise ValueError("too many tokens to pack")
    keep = weights >= threshold
    counts = keep.reshape(-1, weights.shape[-1]).sum(axis=1).astype("<u2")
    keys = np.nonzero(keep)[-1].astype("<u2")  # row-major: rows in order, keys ascending within a row
    values = weights[keep].astype("<f2")

    def b64(array: np.ndarray) -> str:
        return base64.b64encode(array.tobytes()).decode("ascii")

    return {"shape": list(weights.shape), "counts": b64(counts), "keys": b64(keys), "values": b64(values.view("<u2"))}


def packed_size(packed: dict) -> int:
    return sum(len(packed[key]) for key in ("counts", "keys", "values"))


def _pack_within_budget(weights: np.ndarray) -> tuple[dict, float]:
    for threshold in THRESHOLDS:
        packed = pack_attention(weights, threshold)
        if packed_size(packed) <= DATA_BUDGET_BYTES:
            return packed, threshold
    return packed, threshold


def _shim() -> str:
    return SHIM.replace("HEAD_COLOURS_JSON", json.dumps(list(HEAD_COLOURS)), 1)


def _document(view: str, params_js: str, title: str) -> str:
    scripts = "\n".join(f"<script>{_vendor(name)}</script>" for name in SCRIPTS)
    body = _vendor(VIEW_SCRIPTS[view]).replace("PYTHON_PARAMS", params_js, 1)
    style = STYLE.replace("ZOOM", str(ZOOM[view]))
    layer_select = '<span style="user-select:none">Layer: <select id="layer"></select></span>' if view == "head" else ""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{style}</style>{scripts}<script>{_shim()}</script></head><body>"
        f"<div id='{ROOT_ID}'>{layer_select}<div id='vis'></div></div>"
        f"<script>{body}</script></body></html>"
    )


def iframe(document: str, height: int, title: str) -> str:
    """``document`` in a sandboxed frame: scripts run, but with no access to the app's page."""
    return (
        f'<iframe class="bertviz-frame" title="{html.escape(title)}" sandbox="allow-scripts" '
        f'style="width:100%;height:{int(height)}px;border:1px solid #ccc;background:white" '
        f'srcdoc="{html.escape(document, quote=True)}"></iframe>'
    )


def _tokens(analysis: Analysis, limit: int) -> tuple[list[str], int, list[Msg]]:
    n_tokens = min(analysis.n_tokens, limit)
    notes = []
    if analysis.n_tokens > limit:
        notes.append(Msg("bertviz.tokens_cut", shown=limit, total=analysis.n_tokens))
    return list(analysis.tokens[:n_tokens]), n_tokens, notes


def _finish(view: str, params: dict, packed: dict, threshold: float, layers, n_tokens, notes, height, title) -> BertvizView:
    params["attention"][0]["packed"] = packed
    document = _document(view, f"unpackParams({safe_json(params)})", title)
    frame = iframe(document, height * ZOOM[view], title)
    if threshold > THRESHOLDS[0]:
        notes.append(Msg("bertviz.threshold", threshold=f"{threshold:g}", opacity=f"{threshold:.0%}"))
    return BertvizView(
        html=frame,
        data_bytes=packed_size(packed),
        total_bytes=len(frame.encode("utf-8")),
        threshold=threshold,
        layers=tuple(layers),
        n_tokens=n_tokens,
        notes=tuple(notes),
    )


def head_view(analysis: Analysis, layer: int, max_tokens: int = MAX_TOKENS) -> BertvizView:
    """bertviz's head view of one layer (all heads, one colour each); hover a token to see its lines."""
    layer = check_index(layer, analysis.n_layers, "layer")
    tokens, n_tokens, notes = _tokens(analysis, max_tokens)
    weights = analysis.attention(layer)[None, :, :n_tokens, :n_tokens].astype(np.float32)
    packed, threshold = _pack_within_budget(weights)
    params = {
        "attention": [{"name": None, "left_text": tokens, "right_text": tokens}],
        "default_filter": "0",
        "root_div_id": ROOT_ID,
        "layer": layer,
        "heads": None,
        "include_layers": [layer],
    }
    height = 22.5 * n_tokens + 140
    title = f"bertviz head view, layer {layer}"
    return _finish("head", params, packed, threshold, [layer], n_tokens, notes, height, title)


def model_view_layers(
    n_layers: int, n_heads: int, n_tokens: int, around: int, max_lines: int = MODEL_VIEW_MAX_LINES
) -> list[int]:
    """The most layers, centred on ``around``, whose heads x tokens² lines fit ``max_lines``."""
    per_layer = n_heads * n_tokens * n_tokens
    count = int(min(n_layers, max(1, max_lines // max(per_layer, 1))))
    start = int(min(max(0, around - count // 2), n_layers - count))
    return list(range(start, start + count))


def model_view(analysis: Analysis, around_layer: int = 0, max_tokens: int = MAX_TOKENS) -> BertvizView:
    """bertviz's model view: a thumbnail per (layer, head); click one to enlarge it."""
    tokens, n_tokens, notes = _tokens(analysis, max_tokens)
    layers = model_view_layers(
        analysis.n_layers, analysis.n_heads, n_tokens, check_index(around_layer, analysis.n_layers, "layer")
    )
    if len(layers) < analysis.n_layers:
        notes.append(Msg("bertviz.layers_cut", first=layers[0], last=layers[-1], total=analysis.n_layers))
    weights = np.stack([analysis.attention(layer)[:, :n_tokens, :n_tokens] for layer in layers]).astype(np.float32)
    packed, threshold = _pack_within_budget(weights)
    params = {
        "attention": [{"name": None, "left_text": tokens, "right_text": tokens}],
        "default_filter": "0",
        "display_mode": "light",
        "root_div_id": ROOT_ID,
        "include_layers": layers,
        "include_heads": list(range(analysis.n_heads)),
        "total_heads": analysis.n_heads,
    }
    thumbnail = n_tokens * 7 * (12 / analysis.n_heads) + 10
    height = max(len(layers) * thumbnail + 60, 22 * n_tokens + 80) + 40
    title = f"bertviz model view, layers {layers[0]}–{layers[-1]}"
    return _finish("model", params, packed, threshold, layers, n_tokens, notes, height, title)


def render(analysis: Analysis, kind: str, layer: int) -> BertvizView:
    """The view called ``kind`` ("head" or "model") around ``layer``."""
    if kind == "model":
        return model_view(analysis, layer)
    if kind == "head":
        return head_view(analysis, layer)
    raise InputError("bertviz.unknown_view", view=repr(kind)[:40])
