"""Which models can be asked for, by name; read-only while the app serves.

``register_model`` is for start-up code, tests and Python users (a local folder, a tiny test
model). Serving never writes here: a hub id typed by a user (allowed only with
``EXPLORER_ALLOW_ANY_MODEL=1``) becomes a spec for that request alone (``resolve``).
"""

from __future__ import annotations

import os
import re

from ..errors import ModelUnavailable
from .catalog import CATALOG, DEFAULT_MODEL, OFFLINE_DEFAULT, ModelSpec

REGISTRY: dict[str, ModelSpec] = {spec.name: spec for spec in CATALOG}
ALLOW_ANY_MODEL_ENV = "EXPLORER_ALLOW_ANY_MODEL"
HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?")


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add (or replace) a model in the registry; returns it for chaining."""
    REGISTRY[spec.name] = spec
    return spec


def any_model_allowed() -> bool:
    """Arbitrary hub ids only when the operator says so (a public Space must not download anything)."""
    return os.environ.get(ALLOW_ANY_MODEL_ENV, "").lower() in ("1", "true", "yes")


def names_for_task(task: str | None) -> list[str]:
    """Registered models with this head (``None``: every model, for the encoder views)."""
    return [name for name, spec in REGISTRY.items() if task is None or spec.task == task]


def resolve(name: str | ModelSpec | None, task: str | None = None) -> ModelSpec:
    """The spec for ``name`` (``None``: the embedded default).

    An unregistered name is a hub id for this request only when the operator allows any
    model; otherwise it is refused with the list of known names.
    """
    if isinstance(name, ModelSpec):
        return name
    if name is not None and not isinstance(name, str):
        raise ModelUnavailable("model.bad_name", name=repr(name)[:80])
    default = OFFLINE_DEFAULT.get(task, DEFAULT_MODEL)
    name = (name or default).strip() or default
    spec = REGISTRY.get(name)
    if spec is not None:
        return spec
    if any_model_allowed() and HUB_ID.fullmatch(name):
        return ModelSpec(name=name, source=name, description="", task=task)
    raise ModelUnavailable("model.unknown", model=name[:200], known=", ".join(sorted(REGISTRY)))
