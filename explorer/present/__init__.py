"""One gradio-free presenter per tab: plain values in, a typed result out.

A result holds messages (``Msg``), tables, highlights and figures whose words are still
keys; the UI renders it in the page's language, the API (``result.api()``) as JSON in
English. Each presenter module has ``present(...)`` (runs or reuses the analysis) and,
where a tab redraws without a forward pass, ``view(key, ...)``.
"""
