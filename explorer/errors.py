"""Errors that carry a message meant for the user, as a key with parameters (see ``messages``)."""

from __future__ import annotations

from typing import Any

from .messages import Msg


class ExplorerError(Exception):
    """Base class: ``error.msg`` is the user-facing message; ``str(error)`` its English rendering."""

    def __init__(self, key: str | Msg, **params: Any) -> None:
        self.msg = key if isinstance(key, Msg) else Msg(key, **params)
        super().__init__(str(self.msg))


class InputError(ExplorerError):
    """The input cannot be analysed (empty text, an index out of range, a wrong type)."""


class ModelUnavailable(ExplorerError):
    """A model cannot be loaded; the message says what to install or download."""
