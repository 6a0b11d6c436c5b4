"""One exception hierarchy for lifeline. Every error names what was wrong and where."""

from __future__ import annotations


class LifelineError(Exception):
    """Base class of every error lifeline raises on purpose.

    ``where`` names the place (a file, ``file:line``, a field, a topic) when one is known; it is
    appended to the message so that a user reading a CLI error knows what to fix.
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(LifelineError):
    """A setting or an environment variable is missing or malformed."""


class InputError(LifelineError):
    """A user-supplied file or record cannot be used (bad format, missing column, bad value)."""


class NetworkModelError(LifelineError):
    """A network model (EPANET INP, pandapower or pandapipes JSON) is invalid or does not solve."""


class StoreError(LifelineError):
    """The store (DuckDB or PostgreSQL) failed or is unreachable."""


class IngestError(LifelineError):
    """Ingestion cannot proceed at all (as opposed to single rejected records, which are kept)."""


class NotFoundError(LifelineError):
    """A referenced object (asset, sensor, incident, pipe, switch, …) does not exist."""


class StateError(LifelineError):
    """An operation is not allowed in the object's current state (e.g. a lifecycle transition)."""
