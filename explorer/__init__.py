"""attention-explorer: one shared, cached forward pass per (model, text) for every view.

>>> import explorer
>>> analysis = explorer.analyze("The cat sat on the mat.")
>>> analysis.attentions.shape          # (layers, heads, query tokens, key tokens)
(6, 12, 9, 9)
"""

from .ablation import ablate, importance
from .analysis import Analysis, AnalysisKey, WindowedAnalysis
from .attribution import attribute, faithfulness
from .backend import Target, analyze, analyze_qa, forward_count, input_gradients
from .errors import ExplorerError, InputError, ModelUnavailable
from .heads import find_heads, head_roles
from .interventions import HeadGate
from .messages import Msg
from .models import DEFAULT_MODEL, REGISTRY, ModelSpec, load_model, register_model
from .present.step import step_through

__all__ = [
    "DEFAULT_MODEL",
    "REGISTRY",
    "Analysis",
    "AnalysisKey",
    "HeadGate",
    "Msg",
    "Target",
    "WindowedAnalysis",
    "ExplorerError",
    "InputError",
    "ModelSpec",
    "ModelUnavailable",
    "ablate",
    "analyze",
    "analyze_qa",
    "attribute",
    "faithfulness",
    "find_heads",
    "forward_count",
    "head_roles",
    "importance",
    "input_gradients",
    "load_model",
    "register_model",
    "step_through",
]
