"""One exception hierarchy for the whole pipeline.

Whether a failure is retried is decided by its type, never by matching a message: the step runtime
acknowledges a :class:`PermanentError` (recording the reason for the user) and lets anything else
propagate so the event is redelivered.
"""

from __future__ import annotations


class PdfontoError(Exception):
    """Base class of every error raised on purpose by pdfonto."""


class PermanentError(PdfontoError):
    """Retrying cannot help: the step is marked failed with this message and the event acknowledged."""


class InvalidInput(PermanentError, ValueError):
    """The user's input (PDF, ontology, request) cannot be processed; the message says why."""


class TransientError(PdfontoError):
    """A dependency is briefly unavailable; the event should be redelivered."""


class StepBusy(TransientError):
    """Another worker holds a live lease on this step; try again after it expires."""


class NotFound(PdfontoError, LookupError):
    """The requested record or object does not exist (or is not visible to the caller)."""


class ConfigurationError(PdfontoError, ValueError):
    """A setting is missing or malformed; raised once at start-up."""
