"""The WASAPI backend over FakeCom: threading, ownership of COM references, events, ducking."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from audiolab import (
    BackendDisconnected,
    BackendUnavailable,
    DeviceRole,
    DisconnectReason,
    Flow,
    NotSupported,
    Origin,
    Role,
    SessionNotFound,
    SessionState,
)
from audiolab import open as open_lab
from audiolab._hub import EventSubscription
from audiolab.backends.wasapi import WasapiBackend
from audiolab.events import (
    DisplayNameChanged,
    DuckNotification,
    Event,
    SessionCreated,
    SessionDisconnected,
    SessionRemoved,
    UnduckNotification,
    VolumeChanged,
)
from audiolab.testing import FakeCom

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return request.param


class Run:
    """A Lab on the wasapi backend over a FakeCom, with every event recorded."""

    def __init__(self, lab, fake: FakeCom) -> None:  # type: ignore[no-untyped-def]
        self.lab = lab
        self.fake = fake
        self.events: list[Event] = []
        self.subscription: EventSubscription | None = None

    @property
    def backend(self) -> WasapiBackend:
        return self.lab.backend

    async def settle(self) -> None:
        await anyio.to_thread.run_sync(self.fake.wait_idle)
        await self.backend.sync()
        # The collector takes one event per checkpoint (receive() is one): let it take all that arrived.
        while self.subscription is not None and self.subscription.statistics().buffered:
            await anyio.lowlevel.checkpoint()
        for _ in range(3):
            await anyio.lowlevel.checkpoint()

    def of(self, kind: type[Event], session_id: str | None = None) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind) and (session_id is None or e.session_id == session_id)]


@asynccontextmanager
async def running(fake: FakeCom | None = None) -> AsyncIterator[Run]:
    fake = fake if fake is not None else FakeCom()
    try:
        async with open_lab("wasapi", com=fake) as lab:
            run = Run(lab, fake)
            async with lab.events(max_buffer=100_000) as subscription, anyio.create_task_group() as tg:
                run.subscription = subscription
                async def collect() -> None:
                    async for event in subscription:
                        run.events.append(event)

                tg.start_soon(collect)
                yield run
                await run.settle()
                tg.cancel_scope.cancel()
        assert fake.violations == []
        assert (fake.references, fake.registrations) == (0, 0)
    finally:
        fake.close()


# --- import hygiene and availability ---------------------------------------------------------------------------


def test_importing_the_backend_imports_neither_pycaw_nor_comtypes():
    code = ("import sys, audiolab.backends.wasapi, audiolab.backends._wasapi.windows; "
            "print([m for m in sys.modules if m.split('.')[0] in ('pycaw', 'comtypes')])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.skipif(sys.platform == "win32", reason="off Windows only")
async def test_off_windows_probe_is_false_and_the_real_layer_is_unavailable():
    assert await WasapiBackend.probe() is False
    with pytest.raises(BackendUnavailable, match="needs Windows"):
        async with open_lab("wasapi"):
            pass


def test_bad_options_are_refused():
    with pytest.raises(TypeError, match="ComApi"):
        WasapiBackend(com=object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="meter_interval"):
        WasapiBackend(com=FakeCom(), meter_interval=0)
    with pytest.raises(TypeError, match="unknown options"):
        WasapiBackend(com=FakeCom(), colour="red")


# --- threads ----------------------------------------------------------------------------------------------------


async def test_callbacks_arrive_on_a_foreign_thread_and_events_are_emitted_on_the_loop_thread():
    loop_thread = threading.get_ident()
    seen_threads: set[int] = set()
    fake = FakeCom()
    async with running(fake) as run:
        original = run.backend.tracker.session_event

        def spy(*args):  # type: ignore[no-untyped-def]
            seen_threads.add(threading.get_ident())
            original(*args)

        run.backend.tracker.session_event = spy  # type: ignore[method-assign]
        app = fake.process("Player").open_stream(start=True)
        await run.settle()
        fake.set_volume_elsewhere(app.session_id, 0.3)
        await run.settle()
        assert run.of(VolumeChanged, app.session_id)
        assert seen_threads == {loop_thread}
        assert fake._thread.ident != loop_thread  # the notifications came from the fake's own thread


class SlowFake(FakeCom):
    """SetMasterVolume blocks its (COM) thread until the loop has ticked 10 times, or 10 s at most."""

    def __init__(self) -> None:
        super().__init__()
        self.call_started = threading.Event()  # the COM thread is inside the slow call
        self.loop_ticked = threading.Event()  # the loop ran 10 ticks after that
        self.saw_ticks: bool | None = None  # whether the slow call saw loop_ticked before its timeout

    def set_volume_elsewhere(self, instance_id: str, volume: float, *, context: str | None = None) -> None:
        if threading.current_thread().name == "audiolab-wasapi-com":
            self.call_started.set()
            self.saw_ticks = self.loop_ticked.wait(10)
        super().set_volume_elsewhere(instance_id, volume, context=context)


async def test_the_loop_never_blocks_on_the_com_thread():
    fake = SlowFake()
    async with running(fake) as run:
        app = fake.process("Player").open_stream(start=True)
        await run.settle()
        ticks = 0

        async def ticker() -> None:
            # Count loop ticks only once the COM thread is inside the call; the call returns only after 10 of
            # them. Were set_volume to block the loop, no tick could run and the call would time out (10 s).
            nonlocal ticks
            while not fake.call_started.is_set():
                await anyio.sleep(0.001)
            while True:
                await anyio.sleep(0.01)
                ticks += 1
                if ticks == 10:
                    fake.loop_ticked.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            await run.lab.set_volume(app.session_id, 0.4)
            tg.cancel_scope.cancel()
        assert fake.saw_ticks is True  # the loop kept running (10 ticks) while the COM thread was busy
        assert ticks >= 10
        assert fake.session(app.session_id).volume == pytest.approx(0.4)


async def test_closing_joins_the_com_thread_and_releases_everything():
    fake = FakeCom()
    async with running(fake) as run:
        fake.process("Player").open_stream(start=True)
        await run.settle()
        assert fake.references > 0 and fake.registrations > 0
        backend = run.backend
    assert backend._thread is not None and not backend._thread.alive
    assert "audiolab-wasapi-com" not in {t.name for t in threading.enumerate()}


async def test_cancellation_undoes_every_registration():
    fake = FakeCom()
    fake.process("Player").open_stream(start=True)
    with anyio.CancelScope() as scope:
        async with open_lab("wasapi", com=fake):
            scope.cancel()
            await anyio.sleep(1)
    assert (fake.references, fake.registrations, fake.violations) == (0, 0, [])
    fake.close()


async def test_cancellation_during_start_undoes_every_registration():
    class SlowOpen(FakeCom):
        def endpoints(self):  # type: ignore[no-untyped-def]
            time.sleep(0.05)
            return super().endpoints()

    fake = SlowOpen()
    with anyio.move_on_after(0.01):
        async with open_lab("wasapi", com=fake):
            pytest.fail("start should have been cancelled")
    await anyio.sleep(0.2)
    assert (fake.references, fake.registrations, fake.violations) == (0, 0, [])
    fake.close()


# --- ownership: no duplicates, no leaks ----------------------------------------------------------------------


async def test_re_enumeration_registers_nothing_twice_and_reports_nothing_twice():
    fake = FakeCom()
    async with running(fake) as run:
        app = fake.process("Player").open_stream(start=True)
        await run.settle()
        before = (fake.references, fake.registrations)
        for _ in range(5):
            await run.backend.refresh()
        await run.settle()
        assert (fake.references, fake.registrations) == before
        fake.set_volume_elsewhere(app.session_id, 0.2)
        await run.settle()
        assert len(run.of(VolumeChanged, app.session_id)) == 1
        assert len(run.of(SessionCreated, app.session_id)) == 1


async def test_a_session_created_while_enumerating_is_reported_once():
    fake = FakeCom()
    async with running(fake) as run:
        streams = [fake.process(f"App{i}").open_stream(start=True) for i in range(10)]
        await run.backend.refresh()  # races the OnSessionCreated notifications
        await run.settle()
        await run.backend.refresh()
        await run.settle()
        for stream in streams:
            assert len(run.of(SessionCreated, stream.session_id)) == 1
        # one registration per session, plus session-created per endpoint and one duck registration
        assert fake.registrations == len(run.lab.snapshot()) + 3 + 1


async def test_an_ended_session_is_unregistered_and_released_at_once():
    fake = FakeCom()
    async with running(fake) as run:
        process = fake.process("Player")
        process.open_stream(start=True)
        await run.settle()
        counts = (fake.references, fake.registrations)
        process.exit()
        await run.settle()
        assert (fake.references, fake.registrations) == (counts[0] - 1, counts[1] - 1)


async def test_a_process_that_plays_again_gets_its_session_back():
    fake = FakeCom()
    async with running(fake) as run:
        process = fake.process("Player")
        first = process.open_stream(start=True)
        await run.settle()
        first.release()
        second = process.open_stream(start=True)  # same instance id, a new session object
        await run.settle()
        assert second.session_id == first.session_id
        assert run.lab.session(second.session_id).state is SessionState.ACTIVE
        fake.set_volume_elsewhere(second.session_id, 0.6)
        await run.settle()
        assert run.lab.session(second.session_id).volume == pytest.approx(0.6)
        assert len(run.of(SessionCreated, second.session_id)) == 2
        assert len(run.of(SessionRemoved, second.session_id)) == 1


# --- what sessions look like -----------------------------------------------------------------------------------


async def test_system_sounds_session():
    async with running() as run:
        system = [s for s in run.lab.snapshot() if s.is_system_sounds]
        assert len(system) == 1
        session = system[0]
        assert session.key.cross_process and session.pid is None
        assert (session.app, session.role, session.flow) == ("System Sounds", Role.SYSTEM, Flow.RENDER)
        others = [s for s in run.lab.snapshot() if not s.is_system_sounds]
        assert all(not s.is_system_sounds for s in others)


async def test_a_cross_process_session_reports_its_creators_pid_not_in_its_key_and_keeps_its_guid():
    fake = FakeCom()
    guid = str(uuid.uuid4())
    async with running(fake) as run:
        creator = fake.process("Suite")
        shared = creator.open_stream(session_guid=guid, cross_process=True, start=True)
        own = fake.process("Suite").open_stream(start=True)
        await run.settle()
        cross = run.lab.session(shared.session_id)
        assert cross.pid == creator.pid and cross.key.pid is None  # GetProcessId: the process that created it
        assert cross.key.cross_process and cross.key.guid == guid
        single = run.lab.session(own.session_id)
        assert single.pid is not None and not single.key.cross_process and single.app == "Suite"


async def test_sessions_of_every_active_endpoint_are_enumerated():
    fake = FakeCom()
    speakers, headset, microphone = fake.endpoint_ids
    before = fake.process("Early").open_stream(headset, start=True)  # exists before the Lab opens
    await anyio.to_thread.run_sync(fake.wait_idle)
    async with running(fake) as run:
        recorder = fake.process("Recorder").open_stream(microphone, start=True)
        await run.settle()
        by_id = {s.id: s for s in run.lab.snapshot()}
        assert by_id[before.session_id].device_id == headset
        assert by_id[recorder.session_id].device_id == microphone
        assert by_id[recorder.session_id].flow is Flow.CAPTURE
        assert {d.id for d in run.backend.devices} == {speakers, headset, microphone}


# --- events -------------------------------------------------------------------------------------------------


async def test_origin_comes_from_the_event_context():
    fake = FakeCom()
    async with running(fake) as run:
        app = fake.process("Player").open_stream(start=True)
        await run.settle()
        await run.lab.set_volume(app.session_id, 0.5)
        await run.lab.set_display_name(app.session_id, "Mine")
        await run.settle()
        fake.set_volume_elsewhere(app.session_id, 0.25)
        fake.set_display_name_elsewhere(app.session_id, "Theirs")
        fake.set_volume_elsewhere(app.session_id, 0.75, context=run.backend.event_context)  # our GUID
        await run.settle()
        assert [(e.volume, e.origin) for e in run.of(VolumeChanged, app.session_id)] == [
            (0.5, Origin.THIS_CLIENT), (0.25, Origin.OTHER_CLIENT), (0.75, Origin.THIS_CLIENT)]
        assert [(e.display_name, e.origin) for e in run.of(DisplayNameChanged, app.session_id)] == [
            ("Mine", Origin.THIS_CLIENT), ("Theirs", Origin.OTHER_CLIENT)]


async def test_every_property_can_be_set_and_is_reported():
    fake = FakeCom()
    group = str(uuid.uuid4())
    async with running(fake) as run:
        app = fake.process("Player").open_stream(start=True)
        await run.settle()
        lab = run.lab
        await lab.set_mute(app.session_id, True)
        await lab.set_channel_volume(app.session_id, 1, 0.5)
        await lab.set_icon_path(app.session_id, "C:\\icons\\player.ico")
        await lab.set_grouping_param(app.session_id, group)
        await run.settle()
        session = lab.session(app.session_id)
        assert (session.muted, session.channel_volumes, session.icon_path, session.grouping_param) == (
            True, (1.0, 0.5), "C:\\icons\\player.ico", group)
        raw = fake.session(app.session_id)
        assert (raw.muted, raw.channels, raw.icon_path, raw.grouping_param) == (
            True, [1.0, 0.5], "C:\\icons\\player.ico", group)
        kinds = [e.kind for e in run.events if e.session_id == app.session_id]
        for kind in ("VolumeChanged", "ChannelVolumeChanged", "IconPathChanged", "GroupingParamChanged"):
            assert kind in kinds


@pytest.mark.parametrize(
    ("call", "args", "error"),
    [
        ("set_channel_volume", (2, 0.5), ValueError),
        ("set_channel_volume", (0, 1.5), ValueError),
        ("set_channel_volume", ("0", 0.5), TypeError),
        ("set_grouping_param", ("not a guid",), ValueError),
        ("set_display_name", (3,), TypeError),
        ("set_icon_path", (None,), TypeError),
        ("set_mute", (1,), TypeError),
        ("set_volume", (float("nan"),), ValueError),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(call, args, error):  # type: ignore[no-untyped-def]
    fake = FakeCom()
    async with running(fake) as run:
        app = fake.process("Player").open_stream(start=True)
        await run.settle()
        before = run.lab.session(app.session_id)
        with pytest.raises(error):
            await getattr(run.lab, call)(app.session_id, *args)
        await run.settle()
        assert run.lab.session(app.session_id) == before
        assert not [e for e in run.events if e.session_id == app.session_id
                    and e.kind not in ("SessionCreated", "StateChanged")]


async def test_unknown_session_is_refused():
    async with running() as run:
        with pytest.raises(SessionNotFound):
            await run.lab.set_channel_volume("nope", 0, 0.5)
        with pytest.raises(SessionNotFound):
            await run.backend.set_ducking_preference("nope", True)


async def test_duck_and_unduck_notifications_carry_the_communications_session_and_count():
    fake = FakeCom()
    headset = fake.default_endpoint_id(Flow.RENDER, DeviceRole.COMMUNICATIONS)
    async with running(fake) as run:
        call = fake.process("Phone").open_stream(headset, start=True)
        second = fake.process("Chat").open_stream(headset, start=True)
        await run.settle()
        call.stop()
        await run.settle()
        ducks = run.of(DuckNotification)
        assert [(d.communications_session_id, d.count) for d in ducks] == [
            (call.session_id, 1), (second.session_id, 2)]
        assert [u.communications_session_id for u in run.of(UnduckNotification)] == [call.session_id]
        why = ducks[1].why  # each says why: Windows reported communications activity
        assert why.kind == "windows" and why.rule["source"] == "IAudioVolumeDuckNotification"
        assert why.rule["communications_session"] == second.session_id and why.rule["communications_sessions"] == 2
        assert run.of(UnduckNotification)[0].why.rule["communications_session"] == call.session_id


async def test_ducking_preference_for_own_sessions_only():
    fake = FakeCom()
    async with running(fake) as run:
        own = fake.process("python", pid=os.getpid()).open_stream(start=True)
        other = fake.process("Player").open_stream(start=True)
        await run.settle()
        await run.backend.set_ducking_preference(own.session_id, True)
        assert fake.session(own.session_id).ducking_opt_out is True
        assert run.lab.session(own.session_id).ducking_opt_out is True
        with pytest.raises(NotSupported, match="own sessions"):
            await run.backend.set_ducking_preference(other.session_id, True)
        with pytest.raises(TypeError):
            await run.backend.set_ducking_preference(own.session_id, "yes")  # type: ignore[arg-type]
        assert fake.session(other.session_id).ducking_opt_out is False


async def test_ducking_preference_is_a_documented_lab_call_on_wasapi():
    fake = FakeCom()
    async with running(fake) as run:
        own = fake.process("python", pid=os.getpid()).open_stream(start=True)
        other = fake.process("Player").open_stream(start=True)
        await run.settle()
        await run.lab.set_ducking_preference(own.session_id, True)
        assert fake.session(own.session_id).ducking_opt_out is True
        with pytest.raises(NotSupported, match="own sessions"):
            await run.lab.set_ducking_preference(other.session_id, True)
        assert fake.session(other.session_id).ducking_opt_out is False


async def test_a_removed_device_disconnects_its_sessions():
    fake = FakeCom()
    headset = fake.default_endpoint_id(Flow.RENDER, DeviceRole.COMMUNICATIONS)
    async with running(fake) as run:
        app = fake.process("Phone").open_stream(headset, start=True)
        await run.settle()
        registrations = fake.registrations
        fake.disconnect_endpoint(headset)
        await run.settle()
        assert [e.reason for e in run.of(SessionDisconnected, app.session_id)] == [DisconnectReason.DEVICE_REMOVAL]
        assert run.of(SessionRemoved, app.session_id)
        assert app.session_id not in {s.id for s in run.lab.snapshot()}
        assert fake.registrations == registrations - 1


async def test_a_service_shutdown_ends_subscriptions_with_backend_disconnected():
    fake = FakeCom()
    async with open_lab("wasapi", com=fake) as lab:
        fake.process("Player").open_stream(start=True)
        async with lab.events() as events:
            fake.restart_service()
            with pytest.raises(BackendDisconnected), anyio.fail_after(5):
                async for _ in events:
                    pass
        with pytest.raises(BackendDisconnected):
            lab.snapshot()
    assert (fake.references, fake.registrations) == (0, 0)
    fake.close()


async def test_meters_poll_peaks_after_session_volume():
    fake = FakeCom()
    async with running(fake) as run:
        loud = fake.process("Loud").open_stream(start=True, level=0.8)
        quiet = fake.process("Quiet").open_stream(start=True, level=0.8)
        await run.settle()
        await run.lab.set_volume(quiet.session_id, 0.25)
        async with run.lab.meters(rate=50) as frames:
            with anyio.fail_after(5):
                while True:
                    frame = await frames.receive()
                    if frame.peaks.get(loud.session_id):
                        break
        assert frame.peaks[loud.session_id] == pytest.approx(0.8)
        assert frame.peaks[quiet.session_id] == pytest.approx(0.2)
        assert frame.channel_peaks[loud.session_id] == pytest.approx((0.8, 0.8))


# --- hand-off to a blocked loop: bounded, lossless for control, newest-merged for meters ----------------------


async def test_blocked_loop_queues_one_meter_post():
    fake = FakeCom()
    async with running(fake) as run:
        stream = fake.process("Player").open_stream(start=True, level=0.3)
        await run.settle()
        backend = run.backend
        await backend.start_meters()
        await run.settle()
        backend.read_meters()  # start from an empty frame
        before = backend.statistics()

        def polls_since(start: int, polls: int) -> int:
            # Block the loop (no await) until the COM thread has merged ``polls`` more meter readings. Two
            # readings after a level change guarantee one poll that read the new level from start to end.
            deadline = time.monotonic() + 10
            while (count := backend.statistics().meter_readings) - start < polls:
                assert time.monotonic() < deadline, f"the COM thread stopped polling meters ({count - start} polls)"
                time.sleep(0.002)  # noqa: ASYNC251 - blocking the loop is the point
            return count

        # A notebook cell that blocks the kernel: the COM thread keeps polling at 60 Hz meanwhile.
        readings = polls_since(before.meter_readings, 2)
        stream.level = 0.9  # loud for a moment
        readings = polls_since(readings, 2)
        stream.level = 0.1
        polls_since(readings, 2)
        polls_since(before.meter_readings, 10)
        during = backend.statistics()
        assert during.meter_readings - before.meter_readings >= 10  # >= 10 polls, merged while blocked
        assert during.posts - before.posts <= 1  # at most one loop callback pending, not one per poll
        await run.settle()
        await backend.stop_meters()
        frame = backend.read_meters()
        assert frame.peaks[stream.session_id] == pytest.approx(0.9)  # the loudest peak seen, not the last
        assert frame.channel_peaks[stream.session_id] == pytest.approx((0.9, 0.9))
        assert not backend.statistics().pending


async def test_control_events_from_a_blocked_loop_arrive_all_in_order_from_one_post():
    fake = FakeCom()
    async with running(fake) as run:
        app = fake.process("Player").open_stream(start=True)
        await run.settle()
        before = run.backend.statistics()
        volumes = [i / 200 for i in range(1, 201)]
        for volume in volumes:  # the loop is blocked while the fake's thread delivers every callback
            fake.set_volume_elsewhere(app.session_id, volume)
        fake.wait_idle()
        during = run.backend.statistics()
        assert during.posts - before.posts <= 1 and during.backlog == 200
        await run.settle()
        assert [e.volume for e in run.of(VolumeChanged, app.session_id)] == pytest.approx(volumes)
        after = run.backend.statistics()
        assert (after.backlog, after.overflowed, after.refused) == (0, False, 0)


async def test_a_control_backlog_overflow_ends_subscriptions_after_every_event_it_held(monkeypatch):
    from audiolab.backends._wasapi import outbox

    monkeypatch.setattr(outbox, "MAX_CONTROL_BACKLOG", 20)
    fake = FakeCom()
    async with open_lab("wasapi", com=fake) as lab:
        app = fake.process("Player").open_stream(start=True)
        await anyio.to_thread.run_sync(fake.wait_idle)
        await lab.backend.sync()
        async with lab.events() as events:
            for i in range(1, 41):  # the loop is blocked: 40 notifications for a backlog of 20
                fake.set_volume_elsewhere(app.session_id, i / 100)
            fake.wait_idle()
            got: list[Event] = []
            with pytest.raises(BackendDisconnected, match="blocked"), anyio.fail_after(5):
                async for event in events:
                    got.append(event)
        assert [e.volume for e in got if isinstance(e, VolumeChanged)] == pytest.approx(
            [i / 100 for i in range(1, 21)])  # no gap: everything up to the error was delivered
        stats = lab.backend.statistics()
        assert (stats.overflowed, stats.refused, stats.max_backlog) == (True, 20, 20)
    assert (fake.references, fake.registrations, fake.violations) == (0, 0, [])
    fake.close()


# --- closing is bounded --------------------------------------------------------------------------------------


async def test_closing_gives_up_on_a_hung_com_call_with_a_warning():
    unhang = threading.Event()

    class HungRelease(FakeCom):
        """IAudioSessionManager2::Release hangs (until the test lets it return)."""

        def open_manager(self, endpoint):  # type: ignore[no-untyped-def]
            manager = super().open_manager(endpoint)
            release = manager.release

            def hung_release() -> None:
                unhang.wait(10)
                release()

            manager.release = hung_release  # type: ignore[method-assign]
            return manager

    fake = HungRelease()
    try:
        with pytest.warns(RuntimeWarning, match="did not finish closing within 0.2 s"):  # noqa: PT031
            async with open_lab("wasapi", com=fake, close_timeout=0.2) as lab:
                fake.process("Player").open_stream(start=True)
                await anyio.to_thread.run_sync(fake.wait_idle)
                backend = lab.backend
                closing = time.monotonic()
        assert time.monotonic() - closing < 2  # bounded, not forever
        assert backend._thread is not None and backend._thread.alive  # abandoned, still stuck
    finally:
        unhang.set()
    # Once the hung call returns, the abandoned thread still releases everything and ends.
    await anyio.to_thread.run_sync(backend._thread._thread.join, 5)
    assert not backend._thread.alive
    assert (fake.references, fake.registrations, fake.violations) == (0, 0, [])
    fake.close()


def test_close_timeout_is_validated():
    for bad in (0, -1, float("inf"), float("nan"), True, "5"):
        with pytest.raises(ValueError, match="close_timeout"):
            WasapiBackend(com=FakeCom(), close_timeout=bad)  # type: ignore[arg-type]


# --- process tags ---------------------------------------------------------------------------------------------------


async def test_a_tag_names_a_process_sessions_until_it_is_untagged():
    fake = FakeCom()
    async with running(fake) as run:
        helper = fake.process("helper.exe")
        run.backend.tag_process(helper.pid, app="Music", role=Role.MUSIC)
        helper.open_stream(start=True)
        await run.settle()
        assert [(s.app, s.role) for s in run.lab.snapshot() if s.pid == helper.pid] == [("Music", Role.MUSIC)]
        run.backend.untag_process(helper.pid)
        helper.open_stream(session_guid=str(uuid.uuid4()), start=True)
        await run.settle()
        seen = sorted((s.app, s.role.value) for s in run.lab.snapshot() if s.pid == helper.pid)
        # the first session keeps its name; the one that came after the untag is the process's own
        assert seen == [("Music", Role.MUSIC.value), ("helper.exe", Role.UNKNOWN.value)]
        backend = run.backend
    backend.untag_process(helper.pid)  # closed: nothing left to forget, and no error
