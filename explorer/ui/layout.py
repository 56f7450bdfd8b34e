"""The columns of a tab's top: its controls on the left, its first result on the right.

At 1280 px (and at 1280 px in projection mode, whose 130% zoom leaves ~920 CSS px) both fit side by
side, so a tab's first result starts on the first screen; under ~800 px gradio's row wraps them.
"""

from __future__ import annotations

CONTROLS = {"scale": 1, "min_width": 300}
RESULTS = {"scale": 2, "min_width": 480}
