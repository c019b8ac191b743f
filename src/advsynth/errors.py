"""Errors that reach the user as one line.

Every problem with the user's input or configuration is raised as an
``AdvsynthError`` subclass; the CLI prints ``str(error)`` and exits non-zero, the
container entrypoints write it to ``/opt/ml/output/failure``. Anything else is a
bug and keeps its traceback.
"""


class AdvsynthError(Exception):
    """Base class: a problem the user can fix, described in one line."""

    exit_code = 2


class InputError(AdvsynthError):
    """The data (file, table, column) cannot be used as given."""


class ConfigError(AdvsynthError):
    """The configuration or a parameter is wrong."""


class OutputError(AdvsynthError):
    """The results cannot be written where asked (exists, not writable, disk full, ...)."""
