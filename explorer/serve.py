"""Extra ``launch()`` options chosen from the command line and the environment.

``python app.py --mcp`` (or ``EXPLORER_MCP=1 python app.py``) also serves every public API
endpoint as an MCP tool, over streamable HTTP at ``/gradio_api/mcp/`` and over SSE at
``/gradio_api/mcp/sse``. It needs the ``mcp`` package: ``pip install -r requirements-mcp.txt``.
Gradio's own ``GRADIO_MCP_SERVER=true`` keeps working, since nothing is passed when neither is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MCP_FLAG = "--mcp"
MCP_ENV = "EXPLORER_MCP"
_TRUE = {"1", "true", "yes", "on"}


def launch_options(argv: list[str], environ: Mapping[str, str]) -> dict[str, Any]:
    """``{"mcp_server": True}`` when ``--mcp`` is in ``argv`` or ``EXPLORER_MCP`` is 1/true/yes/on; else ``{}``."""
    if MCP_FLAG in argv or environ.get(MCP_ENV, "").strip().lower() in _TRUE:
        return {"mcp_server": True}
    return {}
