"""Android Automotive, rule by rule: the interaction matrix extracted from FocusInteraction.java, held against the
car service's own expected outcomes (CarZonesAudioFocus{Concurrent,Exclusive,Rejected}Test.java), and the
request evaluation of FocusInteraction.evaluateRequest() / CarAudioFocus.evaluateFocusRequestLocked()."""

from __future__ import annotations

import importlib.util
import re

import pytest

from audiolab import Role
from audiolab.focus import FocusAttributes, FocusEngine, PolicyError, load_policy
from audiolab.focus.explain import why_nothing

from .conftest import REPO, kinds, req

AUTOMOTIVE = REPO.parent / "shared" / "reference" / "automotive"
spec = importlib.util.spec_from_file_location("convert_automotive_focus", REPO / "tools" / "convert_automotive_focus.py")
converter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(converter)

# one usage of each car audio context, as the car tests' *_INFO fixtures use them
USAGE = {"MEDIA": "USAGE_MEDIA", "NAVIGATION": "USAGE_ASSISTANCE_NAVIGATION_GUIDANCE", "VOICE_COMMAND": "USAGE_ASSISTANT",
         "CALL_RING": "USAGE_NOTIFICATION_RINGTONE", "CALL": "USAGE_VOICE_COMMUNICATION", "ALARM": "USAGE_ALARM",
         "NOTIFICATION": "USAGE_NOTIFICATION", "SYSTEM_SOUND": "USAGE_ASSISTANCE_SONIFICATION",
         "EMERGENCY": "USAGE_EMERGENCY", "SAFETY": "USAGE_SAFETY", "VEHICLE_STATUS": "USAGE_VEHICLE_STATUS",
         "ANNOUNCEMENT": "USAGE_ANNOUNCEMENT", "INVALID_SOUND": "USAGE_VIRTUAL_SOURCE"}


def pairs(kind: str) -> list[tuple[str, str]]:
    """The (holder, requester) pairs of CarZonesAudioFocus<kind>Test.java."""
    path = AUTOMOTIVE / f"CarZonesAudioFocus{kind}Test.java"
    if not path.exists():
        pytest.fail(f"the car service's tests must be beside the repo: {path} is missing")
    found = re.findall(r"\{(\w+)_INFO_\d+,\s*(\w+)_INFO_\d+\}", path.read_text(encoding="utf-8"))
    assert found, path
    return found


def usage_req(sid: str, context: str, gain: str, flags: tuple[str, ...] = ()):
    return req(sid, Role.UNKNOWN, usage=USAGE[context], attributes=FocusAttributes(gain=gain, flags=frozenset(flags)))


def test_the_committed_matrix_is_a_fresh_extraction():
    # tools/convert_automotive_focus.py --check: datasets/focus/android-automotive.json holds FocusInteraction's matrix
    assert converter.main([str(AUTOMOTIVE / "FocusInteraction.java"), "--check"]) == 0


def test_the_extraction_refuses_a_broken_matrix():
    with pytest.raises(converter.ConversionError, match="no INTERACTION_MATRIX"):
        converter.extract("class FocusInteraction {}")


@pytest.mark.parametrize(("kind", "cell"), [("Concurrent", "concurrent"), ("Exclusive", "exclusive"), ("Rejected", "reject")])
def test_matrix_agrees_with_the_car_tests(kind, cell):
    # CarZonesAudioFocus<kind>Test.provideParams(): every listed pair has that interaction
    policy = load_policy("android-automotive")
    ctx = {"MEDIA": "MUSIC", "INVALID_SOUND": "INVALID"}
    for holder, requester in pairs(kind):
        assert policy.interaction(ctx.get(holder, holder), ctx.get(requester, requester)) == cell, (holder, requester)


@pytest.mark.parametrize("kind", ["Concurrent", "Exclusive"])
def test_gain_requests_cost_the_holder_focus_for_good(kind):
    # concurrentInteractionsForFocusGainNoPause / exclusiveInteractionsForFocusGainNoPause: granted, holder gets LOSS
    # (evaluateRequest(): a concurrent request that does not allow ducking still makes the holder a loser)
    for holder, requester in pairs(kind):
        engine = FocusEngine(load_policy("android-automotive"))
        engine.start(usage_req("held", holder, "gain"), 0)
        acts = engine.start(usage_req("asks", requester, "gain"), 1)
        assert kinds(acts) == [("Stop", "held"), ("Interrupt", "held")], (holder, requester)
        assert acts[1].native == "AUDIOFOCUS_LOSS"


def test_may_duck_requests_leave_concurrent_holders_alone():
    # concurrentInteractionsTransientMayDuckNoPause_requestGranted...: no focus change dispatched to the holder
    for holder, requester in pairs("Concurrent"):
        engine = FocusEngine(load_policy("android-automotive"))
        engine.start(usage_req("held", holder, "gain_transient_may_duck"), 0)
        assert engine.start(usage_req("asks", requester, "gain_transient_may_duck"), 1) == [], (holder, requester)


def test_may_duck_requests_still_take_exclusive_focus_transiently():
    # exclusiveInteractionsTransientMayDuckNoPause: the holder gets a transient loss, and focus back on abandon
    for holder, requester in pairs("Exclusive"):
        engine = FocusEngine(load_policy("android-automotive"))
        engine.start(usage_req("held", holder, "gain"), 0)
        acts = engine.start(usage_req("asks", requester, "gain_transient_may_duck"), 1)
        assert kinds(acts) == [("Pause", "held"), ("Interrupt", "held")], (holder, requester)
        assert acts[1].native == "AUDIOFOCUS_LOSS_TRANSIENT"
        back = engine.stop(usage_req("asks", requester, "gain_transient_may_duck"), 2)
        assert kinds(back) == [("Resume", "held"), ("Interrupt", "held")] and back[1].native == "AUDIOFOCUS_GAIN"


def test_rejected_requests_fail():
    # rejectedInteractionsFocusTest: AUDIOFOCUS_REQUEST_FAILED
    for holder, requester in pairs("Rejected"):
        engine = FocusEngine(load_policy("android-automotive"))
        engine.start(usage_req("held", holder, "gain"), 0)
        acts = engine.start(usage_req("asks", requester, "gain"), 1)
        assert kinds(acts) == [("Deny", "asks")], (holder, requester)
        assert acts[0].reason.rule["interaction"] == "reject" and acts[0].reason.rule["action"] == "DENY"


def test_pauses_on_duckable_loss_makes_a_concurrent_holder_lose():
    # FocusInteraction.evaluateRequest(): a holder that wants to pause instead of ducking becomes a loser
    engine = FocusEngine(load_policy("android-automotive"))
    engine.start(usage_req("music", "MEDIA", "gain", ("pauses_on_duckable_loss",)), 0)
    acts = engine.start(usage_req("maps", "NAVIGATION", "gain_transient_may_duck"), 1)
    assert kinds(acts) == [("Pause", "music"), ("Interrupt", "music")]
    assert "PAUSES_ON_DUCKABLE_LOSS" in acts[0].reason.rule["why"]


def test_a_rejected_gain_with_delay_ok_waits_and_gains():
    # evaluateRequest(): reject -> AUDIOFOCUS_REQUEST_DELAYED when CarAudioFocus.canReceiveDelayedFocus()
    # (an AUDIOFOCUS_GAIN request with AUDIOFOCUS_FLAG_DELAY_OK); granted when the blocker abandons
    engine = FocusEngine(load_policy("android-automotive"))
    engine.start(req("phone", Role.VOICE_COMMUNICATION, app="Phone"), 0)
    acts = engine.start(req("pod", Role.AUDIOBOOK, attributes=FocusAttributes(flags=frozenset({"delay_ok"}))), 1)
    assert kinds(acts) == [("Pause", "pod"), ("Interrupt", "pod")] and acts[1].native == "AUDIOFOCUS_REQUEST_DELAYED"
    assert acts[0].reason.rule["action"] == "DELAY"
    transient = engine.start(req("quiz", Role.AUDIOBOOK, attributes=FocusAttributes(gain="gain_transient",
                                                                                   flags=frozenset({"delay_ok"}))), 1)
    assert kinds(transient) == [("Deny", "quiz")]  # only an AUDIOFOCUS_GAIN request may be delayed
    back = engine.stop(req("phone", Role.VOICE_COMMUNICATION, app="Phone"), 2)
    assert kinds(back) == [("Resume", "pod"), ("Interrupt", "pod")] and back[1].native == "AUDIOFOCUS_GAIN"


def test_a_newer_delayed_request_replaces_the_older():
    # CarAudioFocus.swapDelayedAudioFocusRequestLocked(): the older delayed request gets AUDIOFOCUS_LOSS
    engine = FocusEngine(load_policy("android-automotive"))
    engine.start(req("phone", Role.VOICE_COMMUNICATION, app="Phone"), 0)
    delay = FocusAttributes(flags=frozenset({"delay_ok"}))
    engine.start(req("pod", Role.AUDIOBOOK, attributes=delay), 1)
    acts = engine.start(req("radio", Role.MUSIC, attributes=delay), 2)
    assert ("Stop", "pod") in kinds(acts) and ("Pause", "radio") in kinds(acts)


@pytest.mark.parametrize(("setting", "expected"), [(False, []), (True, [("Deny", "maps")])])
def test_navigation_during_a_call_follows_the_user_setting(setting, expected):
    # FocusInteraction.setRejectNavigationOnCallLocked(): KEY_AUDIO_FOCUS_NAVIGATION_REJECTED_DURING_CALL
    engine = FocusEngine(load_policy("android-automotive", reject_navigation_during_call=setting))
    engine.start(req("phone", Role.VOICE_COMMUNICATION, app="Phone"), 0)
    acts = engine.start(req("maps", Role.NAVIGATION), 1)
    assert kinds(acts) == expected
    if setting:
        assert acts[0].reason.rule["setting"] == "reject_navigation_during_call"


def test_ring_then_call_is_one_client():
    # CarAudioFocus.canSwapCallOrRingerClientRequest(): the call replaces the ring of the same client
    engine = FocusEngine(load_policy("android-automotive"))
    engine.start(req("phone", Role.RINGTONE, stream="ring", app="Phone"), 0)
    assert engine.start(req("phone", Role.VOICE_COMMUNICATION, stream="call", app="Phone"), 1) == []
    assert engine.system.focus_state() == (("Phone", "holder"),)


def test_why_nothing_for_a_concurrent_duckable_pair():
    why = why_nothing(load_policy("android-automotive"), req("music"), req("maps", Role.NAVIGATION))
    assert why.rule["interaction"] == "concurrent" and "audio HAL" in why.text


def test_bad_setting_is_refused():
    with pytest.raises(PolicyError, match="reject_navigation_during_call"):
        load_policy("android-automotive", reject_navigation_during_call="sometimes")
