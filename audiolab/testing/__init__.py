"""Test doubles for code built on audiolab, as ``trio.testing`` and httpx's ``MockTransport`` are for theirs.

- :class:`FakeCom`: a fake of the Windows backend's narrow COM layer that behaves as the Core Audio documentation
  describes (notifications on a foreign thread, OnSessionCreated before the enumerator lists a session, duck
  notifications, expiry) and records every protocol violation. ``audiolab.open("wasapi", com=FakeCom())`` runs
  the Windows backend on any OS; :meth:`FakeCom.process` plays other apps' streams.

Importing this module imports no backend, numpy or COM library.
"""

from __future__ import annotations

from ._com_objects import FakeComError, FakeProcess, FakeStream, default_endpoints
from ._fake_com import FakeCom

__all__ = ("FakeCom", "FakeComError", "FakeProcess", "FakeStream", "default_endpoints")
