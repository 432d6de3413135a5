"""The WASAPI backend's parts on their own: thread hand-off, COM thread, mapping, tracker, the fake's checks."""

from __future__ import annotations

import threading

import anyio
import pytest

from audiolab import BackendUnavailable, ClosedResourceError, DisconnectReason, Flow, Origin, SessionState
from audiolab._threads import LoopPoster
from audiolab.backends._wasapi.com import AUDCLNT_S_NO_SINGLE_PROCESS, S_OK, EndpointInfo
from audiolab.backends._wasapi.mapping import RawSession, origin_of, pid_of, session_guid_of
from audiolab.backends._wasapi.notices import DisconnectNotice, StateNotice, VolumeNotice
from audiolab.backends._wasapi.thread import ComThread
from audiolab.backends._wasapi.tracker import SessionTracker
from audiolab.events import SessionCreated, SessionRemoved, StateChanged, VolumeChanged
from audiolab.model import NULL_GUID
from audiolab.testing import FakeCom, FakeComError

pytestmark = pytest.mark.anyio

OURS = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return request.param


# --- LoopPoster -------------------------------------------------------------------------------------------------


async def test_a_post_from_another_thread_runs_on_the_loop_thread():
    poster = LoopPoster.current()
    loop_thread = threading.get_ident()
    ran_on: list[int] = []
    done = anyio.Event()

    def on_loop() -> None:
        ran_on.append(threading.get_ident())
        done.set()

    worker = threading.Thread(target=lambda: poster.post(on_loop))
    worker.start()
    worker.join()
    with anyio.fail_after(5):
        await done.wait()
    assert ran_on == [loop_thread]


async def test_after_close_posts_are_dropped_and_counted():
    poster = LoopPoster.current()
    poster.close()
    assert poster.post(lambda: None) is False
    assert poster.dropped == 1


def test_a_post_after_the_loop_ended_is_dropped():
    import asyncio

    async def capture() -> LoopPoster:
        return LoopPoster.current()

    poster = asyncio.run(capture())
    assert poster.post(lambda: None) is False


# --- ComThread ----------------------------------------------------------------------------------------------------


async def test_com_thread_returns_results_and_raises_errors_of_its_jobs():
    fake = FakeCom()
    thread = ComThread(fake, LoopPoster.current())
    thread.start()
    assert await thread.call(threading.get_ident) == thread.ident != threading.get_ident()
    with pytest.raises(ZeroDivisionError):
        await thread.call(lambda: 1 / 0)
    thread.stop()
    await thread.join()
    with pytest.raises(ClosedResourceError):
        await thread.call(lambda: None)
    assert thread.submit(lambda: None) is False
    fake.close()


async def test_a_com_thread_whose_initialisation_failed_refuses_calls_instead_of_hanging():
    class Broken(FakeCom):
        def enter_thread(self) -> None:
            raise OSError("CoInitializeEx failed")

    fake = Broken()
    thread = ComThread(fake, LoopPoster.current())
    thread.start()
    with anyio.fail_after(5), pytest.raises((BackendUnavailable, ClosedResourceError)):
        await thread.call(lambda: None)
    await thread.join()
    fake.close()


# --- mapping --------------------------------------------------------------------------------------------------------


def test_session_guid_is_read_from_the_identifier():
    guid = "7e3a1b2c-0d4e-4f56-a789-0b1c2d3e4f50"
    identifier = "{0.0.0.00000000}.{abc}|\\Device\\HarddiskVolume3\\app.exe%b{" + guid.upper() + "}"
    assert session_guid_of(identifier) == guid
    assert session_guid_of(identifier + "|1%b4242") == guid
    assert session_guid_of("no guid here") == NULL_GUID


def test_pid_and_origin_mapping():
    assert pid_of(AUDCLNT_S_NO_SINGLE_PROCESS, 0) is None
    assert pid_of(AUDCLNT_S_NO_SINGLE_PROCESS, 4242) == 4242  # a cross-process session: its creator
    assert pid_of(S_OK, 0) is None
    assert pid_of(S_OK, 1234) == 1234
    assert origin_of(OURS.upper(), OURS) is Origin.THIS_CLIENT
    assert origin_of("{" + OURS + "}", OURS) is Origin.THIS_CLIENT
    assert origin_of("00000000-0000-0000-0000-000000000001", OURS) is Origin.OTHER_CLIENT
    assert origin_of(None, OURS) is Origin.UNKNOWN
    assert origin_of("garbage", OURS) is Origin.UNKNOWN


# --- tracker ----------------------------------------------------------------------------------------------------


ENDPOINT = EndpointInfo("{0.0.0.00000000}.{ep}", "Speakers", Flow.RENDER)


def raw(instance_id: str = "s1", state: int = 1) -> RawSession:
    return RawSession(instance_id=instance_id, session_identifier=f"x%b{{{NULL_GUID}}}", endpoint=ENDPOINT,
                      pid=10, process_name="app", state=state, display_name="", icon_path="",
                      grouping_param=NULL_GUID, volume=1.0, muted=False, channel_volumes=(1.0, 1.0),
                      is_system_sounds=False)


def make_tracker() -> tuple[SessionTracker, list, list]:  # type: ignore[type-arg]
    events: list = []  # type: ignore[type-arg]
    shutdowns: list = []  # type: ignore[type-arg]
    tracker = SessionTracker(events.append, lambda: 0.0, OURS, shutdowns.append)
    return tracker, events, shutdowns


def test_notifications_that_overtake_a_session_are_applied_after_it_in_order():
    tracker, events, _ = make_tracker()
    tracker.session_event("s1", 1.0, VolumeNotice(0.3, False, None))
    tracker.session_event("s1", 2.0, VolumeNotice(0.4, False, OURS))
    assert events == []
    tracker.seen(raw())
    assert [type(e) for e in events] == [SessionCreated, VolumeChanged, VolumeChanged]
    assert [e.origin for e in events[1:]] == [Origin.UNKNOWN, Origin.THIS_CLIENT]
    assert tracker.get("s1").volume == 0.4  # type: ignore[union-attr]


def test_a_session_seen_twice_is_announced_once():
    tracker, events, _ = make_tracker()
    tracker.seen(raw())
    tracker.seen(raw())
    assert len(events) == 1 and len(tracker.snapshot()) == 1


def test_expiry_ends_the_session_and_late_notifications_are_ignored():
    tracker, events, _ = make_tracker()
    tracker.seen(raw())
    tracker.session_event("s1", 5.0, StateNotice(0))
    tracker.session_event("s1", 6.0, StateNotice(2))
    tracker.session_event("s1", 6.0, VolumeNotice(0.1, False, None))  # late, from the ended session
    assert [type(e) for e in events] == [SessionCreated, StateChanged, StateChanged, SessionRemoved]
    assert events[2].new is SessionState.EXPIRED
    assert tracker.snapshot() == []


def test_server_shutdown_is_reported_to_the_backend():
    tracker, events, shutdowns = make_tracker()
    tracker.seen(raw())
    tracker.session_event("s1", 1.0, DisconnectNotice(1))
    assert shutdowns == [DisconnectReason.SERVER_SHUTDOWN]
    assert events[-1].kind == "SessionRemoved"


def test_the_pending_list_is_bounded():
    from audiolab.backends._wasapi import tracker as module

    tracker, _, _ = make_tracker()
    for i in range(module.MAX_PENDING_SESSIONS + 5):
        tracker.session_event(f"ghost{i}", 1.0, StateNotice(1))
    for _ in range(module.MAX_PENDING_EVENTS + 3):
        tracker.session_event("ghost-last", 1.0, StateNotice(1))
    assert tracker.pending_dropped == 5 + 1 + 3


# --- the fake's own checks -----------------------------------------------------------------------------------------


def test_the_fake_reports_calls_off_the_com_thread_and_double_release():
    fake = FakeCom()
    with pytest.raises(FakeComError, match="not a COM thread"):
        fake.endpoints()
    fake.enter_thread()
    manager = fake.open_manager(fake.endpoints()[0])
    controls = manager.sessions()
    assert fake.references == 1 + len(controls)
    status, pid = controls[0].process_id()
    assert (status, pid) == (S_OK, 0) and controls[0].is_system_sounds_session() == S_OK
    for control in controls:
        control.release()
    with pytest.raises(FakeComError, match="second Release"):
        controls[0].release()
    manager.release()
    fake.leave_thread()
    fake.close()


def test_the_fake_announces_a_session_before_listing_it_and_only_after_an_enumeration():
    fake = FakeCom(system_sounds=False)
    fake.enter_thread()
    manager = fake.open_manager(fake.endpoints()[0])
    seen: list[tuple[str, int]] = []
    registration = manager.register_session_created(lambda c: (seen.append((c.instance_identifier(), len(
        [s for s in fake._sessions.values() if s.listed]))), c.release()))
    fake.process("Early").open_stream(start=True)
    fake.wait_idle()
    assert seen == []  # nobody asked the enumerator yet
    listed = manager.sessions()
    assert len(listed) == 1
    for control in listed:
        control.release()
    stream = fake.process("Late").open_stream(start=True)
    fake.wait_idle()
    assert seen == [(stream.session_id, 1)]  # announced while only the earlier session was listed
    registration.unregister()
    manager.release()
    assert (fake.references, fake.registrations) == (0, 0)
    fake.leave_thread()
    fake.close()


async def test_join_gives_up_after_its_timeout_and_succeeds_once_the_thread_ends():
    fake = FakeCom()
    thread = ComThread(fake, LoopPoster.current())
    thread.start()
    unhang = threading.Event()
    thread.submit(lambda: unhang.wait(10))  # a COM call that hangs
    thread.stop()
    assert await thread.join(0.05) is False
    assert thread.alive
    unhang.set()
    with anyio.fail_after(5):
        assert await thread.join() is True
    assert not thread.alive
    assert await thread.join(0) is True  # already ended
    fake.close()


async def test_join_of_a_thread_never_started_returns_at_once():
    fake = FakeCom()
    assert await ComThread(fake, LoopPoster.current()).join(0) is True
    fake.close()


# --- LoopOutbox ----------------------------------------------------------------------------------------------------


class RecordingPoster:
    """Stands in for LoopPoster: keeps what would be posted, to run it by hand."""

    def __init__(self) -> None:
        self.posted: list = []  # type: ignore[type-arg]

    def post(self, fn, *args) -> bool:  # type: ignore[no-untyped-def]
        self.posted.append(lambda: fn(*args))
        return True

    def run_all(self) -> None:
        posted, self.posted = self.posted, []
        for fn in posted:
            fn()


def make_outbox(max_backlog: int | None = None):  # type: ignore[no-untyped-def]
    from audiolab.backends._wasapi.outbox import LoopOutbox

    tracker, events, _ = make_tracker()
    poster = RecordingPoster()
    overflows: list[str] = []
    outbox = LoopOutbox(poster, tracker, overflows.append, max_backlog)  # type: ignore[arg-type]
    return outbox, poster, tracker, events, overflows


def test_the_outbox_posts_once_and_merges_meter_polls_into_the_highest_peaks():
    outbox, poster, tracker, events, _ = make_outbox()
    outbox.seen(raw())
    outbox.meters({"s1": (0.2, (0.2, 0.1))})
    outbox.meters({"s1": (0.9, (0.5, 0.9))})
    outbox.session_event("s1", 1.0, VolumeNotice(0.5, False, None))
    outbox.meters({"s1": (0.1, (0.1, 0.1)), "unknown": (1.0, (1.0,))})
    assert len(poster.posted) == 1
    stats = outbox.statistics()
    assert (stats.posts, stats.pending, stats.backlog, stats.meter_readings) == (1, True, 2, 3)
    poster.run_all()
    assert [type(e) for e in events] == [SessionCreated, VolumeChanged]
    frame = tracker.read_meters()
    assert frame.peaks == {"s1": 0.9} and frame.channel_peaks == {"s1": (0.5, 0.9)}
    stats = outbox.statistics()
    assert (stats.pending, stats.backlog, stats.control_delivered) == (False, 0, 2)
    outbox.meters({"s1": (0.3, (0.3, 0.3))})  # the next one posts again
    assert len(poster.posted) == 1


def test_an_outbox_overflow_delivers_what_it_held_then_reports_once():
    outbox, poster, _, events, overflows = make_outbox(max_backlog=3)
    outbox.seen(raw())
    for i in range(5):
        outbox.session_event("s1", float(i + 1), VolumeNotice(i / 10, False, None))
    stats = outbox.statistics()
    assert (stats.backlog, stats.overflowed, stats.refused) == (3, True, 3)
    poster.run_all()
    assert [type(e) for e in events] == [SessionCreated, VolumeChanged, VolumeChanged]
    assert len(overflows) == 1 and "blocked" in overflows[0]
    outbox.session_event("s1", 9.0, VolumeNotice(0.9, False, None))  # refused from now on, counted
    poster.run_all()
    assert len(overflows) == 1 and len(events) == 3 and outbox.statistics().refused == 4


def test_a_failing_notification_does_not_lose_the_ones_after_it():
    outbox, poster, tracker, events, _ = make_outbox()
    outbox.seen(raw())
    outbox.session_event("s1", 1.0, VolumeNotice("not a number", False, None))  # type: ignore[arg-type]
    outbox.session_event("s1", 2.0, VolumeNotice(0.4, False, None))
    poster.run_all()
    assert [type(e) for e in events] == [SessionCreated, VolumeChanged]
    assert tracker.get("s1").volume == 0.4  # type: ignore[union-attr]
