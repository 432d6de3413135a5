"""Listen, kernel side: the dashboard's views ask for the mix and get 16-bit PCM chunks over the comm, only while
one listens; a Lab on a virtual clock (or not the simulated service) is refused with a reason."""

from __future__ import annotations

import time

import numpy as np
import pytest

import audiolab
from audiolab.model import Role
from audiolab.tones import sine
from audiolab.widgets import SessionDashboard
from audiolab.widgets import listen as listen_module
from audiolab.widgets.listen import CHUNK_SECONDS, LISTEN_RATE

from .conftest import RecordingComm, browser_sends

pytestmark = pytest.mark.anyio


def chunks(comm: RecordingComm) -> list[tuple[dict, bytes]]:
    return [(data["content"], buffers[0]) for kind, data, buffers in comm.messages
            if kind == "comm_msg" and data.get("method") == "custom"
            and data["content"].get("kind") == "listen_chunk"]


def statuses(comm: RecordingComm) -> list[dict]:
    return comm.customs("listen_status")


async def test_chunks_carry_the_mix_only_while_a_view_listens(recording_comms):
    async with audiolab.open(policy="harmonyos") as lab:
        dash = SessionDashboard(lab)
        comm = dash.comm
        assert isinstance(comm, RecordingComm)
        music = await lab.play(sine(330, 0.5), role=Role.MUSIC, app="Music")
        await lab.sleep(0.3)
        assert chunks(comm) == []  # off by default: nothing tapped, nothing sent
        assert lab.sim.engine.audio.sinks() == []

        browser_sends(dash, {"kind": "listen", "on": True, "view": "v1"})
        assert statuses(comm)[-1] == {"kind": "listen_status", "view": "v1", "on": True, "error": None}
        started = time.time()
        await lab.sleep(0.6)
        sent = chunks(comm)
        expected = 0.6 / CHUNK_SECONDS  # chunks over 0.6 s of real time
        assert 0.65 * expected <= len(sent) <= 1.2 * expected
        heads = [head for head, _ in sent]
        assert [h["seq"] for h in heads] == list(range(1, len(heads) + 1))
        assert all(h["rate"] == LISTEN_RATE for h in heads)
        assert all(len(pcm) == 2 * round(CHUNK_SECONDS * LISTEN_RATE) for _, pcm in sent)
        steps = np.diff([h["t0"] for h in heads])
        assert steps == pytest.approx(CHUNK_SECONDS, abs=1e-6)  # contiguous audio, stamped in wall-clock time
        assert started - 0.1 < heads[0]["t0"] < started + 0.1
        samples = np.frombuffer(b"".join(pcm for _, pcm in sent[2:]), dtype="<i2") / 32767
        assert np.abs(samples).max() == pytest.approx(0.5, abs=0.01)  # the music at its level
        spectrum = np.abs(np.fft.rfft(samples))
        assert np.fft.rfftfreq(len(samples), 1 / LISTEN_RATE)[spectrum.argmax()] == pytest.approx(330, abs=3)

        await lab.set_volume(music.session_id, 0.2)
        await lab.sleep(0.3)
        tail = np.frombuffer(chunks(comm)[-1][1], dtype="<i2") / 32767
        assert np.abs(tail).max() == pytest.approx(0.1, abs=0.005)

        browser_sends(dash, {"kind": "listen", "on": False, "view": "v1"})
        assert lab.sim.engine.audio.sinks() == []  # the taps are gone
        count = len(chunks(comm))
        await lab.sleep(0.2)
        assert len(chunks(comm)) == count
        stats = dash.listen.statistics()
        assert stats.listening_views == 0 and stats.chunks_sent == count
        assert stats.bytes_sent == count * 2 * round(CHUNK_SECONDS * LISTEN_RATE)
        dash.close()


async def test_a_wav_output_keeps_working_while_listening(recording_comms, tmp_path):
    path = tmp_path / "mix.wav"
    async with audiolab.open(output=str(path)) as lab:
        dash = SessionDashboard(lab)
        await lab.play(sine(440, 0.5), role=Role.MUSIC, app="Music")
        browser_sends(dash, {"kind": "listen", "on": True, "view": "v1"})
        await lab.sleep(0.3)
        browser_sends(dash, {"kind": "listen", "on": False, "view": "v1"})
        assert len(lab.sim.engine.audio.sinks()) == 1  # the WAV sink is back in its slot
        dash.close()
    import wave

    with wave.open(str(path)) as wav:
        assert wav.getnframes() > 0.25 * 48000


async def test_views_that_stop_reporting_stop_the_stream(recording_comms, monkeypatch):
    monkeypatch.setattr(listen_module, "ACK_TIMEOUT_SECONDS", 0.3)
    async with audiolab.open() as lab:
        dash = SessionDashboard(lab)
        browser_sends(dash, {"kind": "listen", "on": True, "view": "gone"})
        browser_sends(dash, {"kind": "listen", "on": True, "view": "here"})
        for _ in range(8):  # only "here" reports, every 0.2 s
            await lab.sleep(0.2)
            browser_sends(dash, {"kind": "listen_ack", "view": "here", "underruns": 2, "dropped": 0,
                                 "latency_ms": 120.5, "buffered_ms": 150.0})
        stats = dash.listen.statistics()
        assert stats.listening_views == 1
        assert (stats.underruns, stats.latency_ms, stats.buffered_ms) == (2, 120.5, 150.0)
        browser_sends(dash, {"kind": "listen", "on": False, "view": "here"})
        assert not dash.listen.listening and lab.sim.engine.audio.sinks() == []
        dash.close()


async def test_virtual_clock_is_refused_with_the_reason(recording_comms):
    async with audiolab.open(clock="virtual") as lab:
        dash = SessionDashboard(lab)
        browser_sends(dash, {"kind": "listen", "on": True, "view": "v1"})
        status = statuses(dash.comm)[-1]
        assert status["on"] is False and "virtual clock" in status["error"]
        assert not dash.listen.listening and lab.sim.engine.audio.sinks() == []
        await lab.sleep(1.0)
        assert chunks(dash.comm) == []
        dash.close()


async def test_bad_messages_change_nothing(recording_comms, caplog):
    async with audiolab.open() as lab:
        dash = SessionDashboard(lab)
        for bad in ({"kind": "listen", "on": True}, {"kind": "listen", "on": True, "view": 3},
                    {"kind": "listen_what", "view": "v"}, {"kind": "listen_ack", "view": "unknown", "underruns": 5}):
            browser_sends(dash, bad)
        assert not dash.listen.listening and dash.listen.statistics().underruns == 0
        assert lab.sim.engine.audio.sinks() == []
        dash.close()
