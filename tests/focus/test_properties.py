"""Any sequence of starts and stops leaves nothing ducked or paused once every interrupter stopped."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from audiolab.focus import Duck, FocusEngine, Pause, Resume, Stop, Unduck, load_policy
from audiolab.model import ConcurrencyMode, Flow, Role

from .conftest import req

POLICIES = [
    ("harmonyos", {}),
    ("windows", {}),
    ("windows", {"ducking": "mute"}),
    ("pulseaudio", {}),
    ("wireplumber", {}),
    ("none", {}),
]
LOADED = [load_policy(n, **s) for n, s in POLICIES]

stream = st.builds(
    lambda sid, role, dev, comm, flow, opt: req(
        f"s{sid}", role, "x", device_id=f"d{dev}", on_communications_device=comm, flow=flow, ducking_opt_out=opt
    ),
    st.integers(0, 5),
    st.sampled_from(list(Role)),
    st.integers(0, 1),
    st.booleans(),
    st.sampled_from(list(Flow)),
    st.booleans(),
)
op = st.tuples(st.sampled_from(["start", "stop", "activate", "deactivate"]), stream, st.sampled_from(list(ConcurrencyMode)))


@settings(max_examples=150, deadline=None)
@given(policy=st.sampled_from(LOADED), ops=st.lists(op, max_size=25), survivor=stream)
def test_no_residue_after_all_interrupters_stop(policy, ops, survivor):
    engine = FocusEngine(policy)
    shown: dict = {}
    t = 0.0

    def apply(actions):
        for a in actions:
            key = (a.session_id, a.stream_id)
            gain, paused = shown.get(key, (1.0, False))
            if isinstance(a, Duck):
                shown[key] = (a.gain, paused)
            elif isinstance(a, Unduck):
                shown[key] = (1.0, paused)
            elif isinstance(a, Pause):
                assert not paused
                shown[key] = (gain, True)
            elif isinstance(a, Resume):
                assert paused
                shown[key] = (gain, False)
            elif isinstance(a, Stop):
                shown.pop(key, None)
            assert a.timestamp == t and a.reason
            a.to_event()

    for name, r, mode in ops:
        t += 1
        if name == "start":
            apply(engine.start(r, t))
        elif name == "stop":
            apply(engine.stop(r, t))
            shown.pop(r.key, None)  # its app stopped it: a later start of the same key is a new stream
        elif name == "activate":
            apply(engine.activate_session(r.app_id, mode, t))
        else:
            apply(engine.deactivate_session(r.app_id, t))
    for key in {r.key for r in engine.streams()} - {survivor.key}:
        t += 1
        apply(engine.stop(next(r for r in engine.streams() if r.key == key), t))
    for app in {r.app_id for _, r, _ in ops}:
        t += 1
        apply(engine.deactivate_session(app, t))
    for r in engine.streams():
        focus = engine.focus_of(*r.key)
        assert focus.gain == 1.0 and not focus.paused
        assert shown.get(r.key, (1.0, False)) == (1.0, False)


@settings(max_examples=50, deadline=None)
@given(policy=st.sampled_from(LOADED), ops=st.lists(st.tuples(st.booleans(), stream), max_size=20))
def test_deterministic(policy, ops):
    def run():
        engine = FocusEngine(policy)
        out = []
        for i, (start, r) in enumerate(ops):
            out += (engine.start if start else engine.stop)(r, float(i))
        return out

    assert run() == run()
