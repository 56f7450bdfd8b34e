"""Errors that carry a message meant for the user (shown in the UI as is)."""


class ExplorerError(Exception):
    """Base class: ``str(error)`` is a complete, user-facing sentence."""


class InputError(ExplorerError):
    """The text the user gave cannot be analysed (e.g. it is empty)."""


class ModelUnavailable(ExplorerError):
    """A model cannot be loaded; the message says what to install or download."""
