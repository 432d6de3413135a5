"""The persistence store's promise: a store it cannot read is never overwritten (it warns and runs in memory),
reading never hangs or crashes, killed writes leave nothing behind for long, and a store that cannot be
written never leaves a Lab half-closed."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import pytest

import audiolab
from audiolab import Role
from audiolab.backends.sim.persistence import PersistenceWarning, VolumeStore
from audiolab.tones import sine

GOOD = '{"version": 1, "sessions": {"speakers|00000000-0000-0000-0000-000000000000|app:Other": ' \
       '{"volume": 0.25, "muted": true}}}'


def open_quietly(path: Path) -> tuple[VolumeStore, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        store = VolumeStore(path)
    return store, [str(w.message) for w in caught if issubclass(w.category, PersistenceWarning)]


@pytest.mark.parametrize(("content", "why"), [
    (b'{"version": 1, "sessions": {"\xff\xfe": {"volume": 0.5, "muted": false}}}', "corrupt"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"version": 2, "sessions": {}}', "version 2"),
    (b'{"version": 1, "sessions": {"k": []}}', "must be an object"),
])
def test_a_store_it_cannot_read_is_reported_never_overwritten_and_run_in_memory(tmp_path, content, why):
    path = tmp_path / "volumes.json"
    path.write_bytes(content)
    store, messages = open_quietly(path)
    assert len(messages) == 1 and why in messages[0] and "leaving the file as it is" in messages[0]
    assert store.in_memory and store.keys() == []
    store.put("speakers|g|app:Mine", 0.5, False)
    with store.batch():
        store.put("speakers|g|app:Yours", 0.75, True)
    assert store.get("speakers|g|app:Mine").volume == 0.5
    assert path.read_bytes() == content


def test_reading_a_fifo_in_place_of_the_store_does_not_hang(tmp_path):
    path = tmp_path / "volumes.json"
    os.mkfifo(path)
    result: list[object] = []
    reader = threading.Thread(target=lambda: result.append(open_quietly(path)), daemon=True)
    reader.start()
    reader.join(timeout=5)
    assert not reader.is_alive(), "opening a store that is a FIFO hung"
    store, messages = result[0]  # type: ignore[misc]
    assert store.in_memory and "not a regular file" in messages[0]
    assert path.is_fifo()


@pytest.mark.anyio
async def test_an_unreadable_store_is_not_replaced_by_this_runs_entries_after_a_restart(tmp_path):
    path = tmp_path / "volumes.json"
    content = GOOD.replace('"version": 1', '"version": 7')  # another app's settings, in a newer format
    path.write_text(content)
    async with contextlib.AsyncExitStack() as stack:
        with pytest.warns(PersistenceWarning, match="version 7"):
            lab = await stack.enter_async_context(audiolab.open(clock="virtual", store_path=path))
        music = await lab.play(sine(440), role=Role.MUSIC, app="Music")
        await lab.set_volume(music.session_id, 0.5)
        await music.stop()
        with pytest.warns(PersistenceWarning, match="version 7"):
            lab.sim.restart()
        assert path.read_text() == content
    assert path.read_text() == content


def test_temporary_files_of_killed_writes_are_swept_and_a_live_writers_is_kept(tmp_path):
    path = tmp_path / "volumes.json"
    path.write_text(GOOD)
    abandoned = [tmp_path / f"volumes.json.dead{i}.tmp" for i in range(3)]
    for tmp in abandoned:
        tmp.write_text("{")
        os.utime(tmp, (time.time() - 10, time.time() - 10))
    live = tmp_path / "volumes.json.live.tmp"
    live.write_text("{")
    os.utime(live, (time.time() - 10, time.time() - 10))
    unrelated = tmp_path / "other.json.x.tmp"
    unrelated.write_text("{")
    os.utime(unrelated, (time.time() - 10, time.time() - 10))
    import fcntl

    with open(live) as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # a writer in another process, alive
        store, messages = open_quietly(path)
    assert messages == [] and store.get("speakers|00000000-0000-0000-0000-000000000000|app:Other").muted
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.json.x.tmp", "volumes.json", "volumes.json.live.tmp"]


WRITER = textwrap.dedent("""
    import sys
    from audiolab.backends.sim.persistence import VolumeStore
    store = VolumeStore(sys.argv[1])
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        store.put(f"k{i % 50}", (i % 100) / 100, False)
""")


def test_writes_killed_mid_way_leave_a_readable_store_and_no_temporary_file_once_swept(tmp_path):
    path = tmp_path / "volumes.json"
    for _ in range(5):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE)
        assert writer.stdout is not None and writer.stdout.readline() == b"ready\n"
        time.sleep(0.05)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
    past = time.time() - 10
    for tmp in tmp_path.glob("volumes.json.*.tmp"):
        os.utime(tmp, (past, past))  # as a later run finds them
    store, messages = open_quietly(path)
    assert messages == [] and not store.in_memory
    assert json.loads(path.read_text())["version"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["volumes.json"]


@pytest.mark.anyio
async def test_with_warnings_as_errors_an_unwritable_store_still_closes_the_lab_completely(tmp_path):
    path = tmp_path / "volumes.json"
    async with audiolab.open(clock="virtual", store_path=path) as lab:
        music = await lab.play(sine(440), role=Role.MUSIC, app="Music")
        game = await lab.play(sine(660), role=Role.GAME, app="Game")
        await lab.set_volume(music.session_id, 0.5)
        backend, clock = lab.backend, lab.clock
        path.mkdir()  # the store cannot be replaced any more: every save warns, and warnings are errors here
        with warnings.catch_warnings():
            warnings.simplefilter("error", PersistenceWarning)
            with pytest.raises(PersistenceWarning, match="cannot save"):
                await lab.aclose()
    assert lab.closed and music.released and game.released
    assert backend._engine.snapshot() == []  # the service was shut down as well
    assert clock._steppers == []
    with pytest.raises(audiolab.ClosedResourceError):
        lab.snapshot()
