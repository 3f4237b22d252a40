"""User-facing errors: each names the input at fault and how to fix it.

The command line turns any :class:`MovierecError` into one line on stderr and exit
status 2; everything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class MovierecError(Exception):
    """A problem with something the user gave (data, parameter, title, file)."""


class DataError(MovierecError):
    """The MovieLens archive or folder is missing, damaged or not what was asked for."""


class ParameterError(MovierecError, ValueError):
    """A training, profile or notebook parameter is unknown or out of range."""


class TitleError(MovierecError, LookupError):
    """A movie title is unknown or matches more than one movie."""


class StoreError(MovierecError):
    """The run store or an output folder cannot be written or read."""
