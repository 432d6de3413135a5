"""Test doubles for code built on audiolab, as ``trio.testing`` and httpx's ``MockTransport`` are for theirs.

- :class:`FakeCom`: a fake of the Windows backend's narrow COM layer that behaves as the Core Audio documentation
  describes (notifications on a foreign thread, OnSessionCreated before the enumerator lists a session, duck
  notifications, expiry) and records every protocol violation. ``audiolab.open("wasapi", com=FakeCom())`` runs
  the Windows backend on any OS; :meth:`FakeCom.process` plays other apps' streams.
- :class:`ScriptedApp` and :func:`run_scripts`: apps of the simulated service that open streams in sessions
  and start, stop (pause) and release them at given times of the Lab's clock.
- :class:`TraceBuilder`: a recorded trace built event by event without a server, as ``audiolab record``
  writes it, so replay, widgets and trace readers can be tested.

Importing this module imports no backend, numpy or COM library.
"""

from __future__ import annotations

from ._com_objects import FakeComError, FakeProcess, FakeStream, default_endpoints
from ._fake_com import FakeCom
from ._scripted import ScriptedApp, ScriptStep, run_scripts
from ._trace_builder import TraceBuilder

__all__ = (
    "FakeCom", "FakeComError", "FakeProcess", "FakeStream", "ScriptStep", "ScriptedApp", "TraceBuilder",
    "default_endpoints", "run_scripts",
)
