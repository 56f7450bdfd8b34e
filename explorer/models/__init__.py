"""Models: the catalog (data), the registry (names), loading (hub, sha256, adapters, device).

Everything a caller needs is re-exported here: ``load_model``, ``resolve``, ``REGISTRY``.
"""

from .catalog import ASSET_MODELS, CATALOG, DEFAULT_MODEL, MINILM_SHA256, OFFLINE_DEFAULT, ModelSpec
from .loading import (
    LOADING_LOCK,
    LoadedModel,
    device_name,
    embedded_model_path,
    embedded_shape,
    hub_reachable,
    load_model,
    loaded_model_names,
    model_availability,
    sha256_of,
    unload_all,
    verify_weights,
)
from .registry import ALLOW_ANY_MODEL_ENV, REGISTRY, any_model_allowed, names_for_task, register_model, resolve

__all__ = [
    "ALLOW_ANY_MODEL_ENV",
    "ASSET_MODELS",
    "CATALOG",
    "DEFAULT_MODEL",
    "LOADING_LOCK",
    "MINILM_SHA256",
    "OFFLINE_DEFAULT",
    "REGISTRY",
    "LoadedModel",
    "ModelSpec",
    "any_model_allowed",
    "device_name",
    "embedded_model_path",
    "embedded_shape",
    "hub_reachable",
    "load_model",
    "loaded_model_names",
    "model_availability",
    "names_for_task",
    "register_model",
    "resolve",
    "sha256_of",
    "unload_all",
    "verify_weights",
]
