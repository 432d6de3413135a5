"""A hypothesis state machine over the simulated service: whatever apps do, the invariants hold."""

from __future__ import annotations

import uuid

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from audiolab import Flow, SessionState, StreamNotFound
from audiolab.backends.sim.client import SimClient
from audiolab.backends.sim.persistence import VolumeStore
from audiolab.backends.sim.sessions import ALLOWED_TRANSITIONS
from audiolab.events import StateChanged
from audiolab.model import Origin

from .helpers import advance, make_engine

GUIDS = [str(uuid.UUID(int=i)) for i in range(3)]
APPS = ["A", "B"]
TARGETS = [("speakers", Flow.RENDER, False), ("headset", Flow.RENDER, False),
           ("microphone", Flow.CAPTURE, False), ("speakers", Flow.CAPTURE, True)]


class ServiceMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine, self.rec, self.time = make_engine(expire_after=3.0, store=VolumeStore(None))
        self.clients = {(a, pid): SimClient(self.engine, a, pid) for a in APPS for pid in (10, 20)}
        self.streams = []
        self.checked = 0

    @rule(client=st.sampled_from(sorted((a, p) for a in APPS for p in (10, 20))), guid=st.sampled_from(GUIDS),
          cross=st.booleans(), where=st.sampled_from(TARGETS))
    def open_stream(self, client, guid, cross, where):
        device, flow, loopback = where
        stream = self.clients[client].open_stream(device, flow=flow, session_guid=guid, cross_process=cross,
                                                  loopback=loopback)
        self.streams.append(stream)

    @precondition(lambda self: self.streams)
    @rule(data=st.data(), action=st.sampled_from(["start", "stop", "release"]))
    def act(self, data, action):
        stream = data.draw(st.sampled_from(self.streams))
        try:
            getattr(stream, action)()
        except StreamNotFound:
            pass
        if action == "release" and stream in self.streams:
            self.streams.remove(stream)

    @rule(data=st.data(), volume=st.floats(0, 1), muted=st.booleans())
    def set_volume(self, data, volume, muted):
        sessions = self.engine.snapshot()
        session = data.draw(st.sampled_from(sessions))
        self.engine.set_volume(session.id, volume, Origin.THIS_CLIENT)
        self.engine.set_mute(session.id, muted, Origin.THIS_CLIENT)

    @rule(seconds=st.floats(0.1, 5.0))
    def wait(self, seconds):
        advance(self.engine, self.time, seconds)

    @rule()
    def restart(self):
        self.engine.restart()
        self.streams.clear()

    @invariant()
    def a_session_never_mixes_render_and_capture(self):
        for session in self.engine.all_sessions():
            assert {s.flow for s in session.streams} <= {session.flow}
            device = self.engine.device(session.device_id)
            loopback = any(s.loopback for s in session.streams)
            assert session.flow is device.flow or (session.flow is Flow.CAPTURE and (loopback or not session.streams))

    @invariant()
    def identity_is_unique(self):
        keys = [(s.key, s.flow) for s in self.engine.all_sessions()]
        assert len(keys) == len(set(keys))
        ids = [s.id for s in self.engine.all_sessions()]
        assert len(ids) == len(set(ids))

    @invariant()
    def states_only_move_along_allowed_transitions(self):
        for event in self.rec.events[self.checked:]:
            if isinstance(event, StateChanged):
                assert (event.old, event.new) in ALLOWED_TRANSITIONS
        self.checked = len(self.rec.events)

    @invariant()
    def state_matches_the_streams(self):
        for session in self.engine.all_sessions():
            running = any(s.state.value == "running" for s in session.streams)
            assert (session.state is SessionState.ACTIVE) == running

    @invariant()
    def nothing_is_persisted_for_capture(self):
        for session in self.engine._table.records():
            if session.flow is Flow.CAPTURE:
                assert session.persist_key is None
        render_devices = {d.id for d in self.engine.devices if d.flow is Flow.RENDER}
        assert {key.split("|")[0] for key in self.engine.store.keys()} <= render_devices

    @invariant()
    def exactly_one_system_sounds_session(self):
        assert sum(s.is_system_sounds for s in self.engine.snapshot()) == 1


ServiceMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestServiceInvariants = ServiceMachine.TestCase
