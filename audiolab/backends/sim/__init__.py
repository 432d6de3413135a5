"""The built-in simulated audio service."""

from .backend import SimBackend
from .client import SimClient, SimStream
from .engine import SimEngine
from .persistence import PersistenceWarning

__all__ = ("PersistenceWarning", "SimBackend", "SimClient", "SimEngine", "SimStream")
