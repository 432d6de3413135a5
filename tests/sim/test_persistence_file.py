"""The persistence file: atomic writes; a corrupt file is reported and left as it is, never a crash."""

from __future__ import annotations

import json
import os

import pytest

from audiolab.backends.sim.persistence import PersistenceWarning, Stored, VolumeStore


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path):
    path = tmp_path / "state" / "volumes.json"
    store = VolumeStore(path)
    store.put("speakers|g|app:A", 0.5, True)
    store.put("speakers|g|app:B", 0.25, False)
    assert json.loads(path.read_text())["sessions"]["speakers|g|app:A"] == {"volume": 0.5, "muted": True}
    assert os.listdir(path.parent) == ["volumes.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "volumes.json"
    store = VolumeStore(path)
    store.put("k", 0.5, False)

    def broken_dump(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", broken_dump)
    with pytest.warns(PersistenceWarning, match="disk full"):
        store.put("k", 0.9, False)  # reported, not raised: a session must still be able to end
    assert json.loads(path.read_text())["sessions"]["k"]["volume"] == 0.5
    assert os.listdir(tmp_path) == ["volumes.json"]
    assert store.get("k").volume == 0.9  # kept in memory for the next write


def test_a_session_ends_even_when_its_settings_cannot_be_saved(tmp_path):
    from audiolab.backends.sim.client import SimClient
    from audiolab.events import SessionRemoved
    from audiolab.model import Origin

    from .helpers import make_engine

    store_dir = tmp_path / "state"
    engine, rec, _ = make_engine(store=VolumeStore(store_dir / "volumes.json"))
    stream = SimClient(engine, "Player").open_stream()
    engine.set_volume(stream.session_id, 0.3, Origin.THIS_CLIENT)
    store_dir.mkdir()
    store_dir.chmod(0o500)  # unwritable (root ignores modes, so also make the target a directory)
    (store_dir / "volumes.json").mkdir() if os.geteuid() == 0 else None
    try:
        with pytest.warns(PersistenceWarning, match="cannot save"):
            stream.release()
    finally:
        store_dir.chmod(0o700)
    assert rec.of(SessionRemoved, stream.session_id)
    assert stream.session_id not in {s.id for s in engine.all_sessions()}


def test_a_restart_writes_the_store_once(tmp_path):
    from audiolab.backends.sim.client import SimClient

    from .helpers import make_engine

    engine, _, _ = make_engine(store=VolumeStore(tmp_path / "v.json"))
    for i in range(20):
        SimClient(engine, f"App{i}").open_stream()
    writes = engine.store.writes
    engine.restart()
    assert engine.store.writes == writes + 1
    assert len(engine.store.keys()) == 21  # 20 apps and the system sounds


@pytest.mark.parametrize(
    "content",
    ["{not json", "[]", '{"version": 99, "sessions": {}}', '{"version": 1, "sessions": {"k": {"volume": 7, "muted": false}}}',
     '{"version": 1, "sessions": {"k": {"volume": 0.5}}}', '{"version": 1, "sessions": []}', "\x00\x01"],
)
def test_a_corrupt_file_is_reported_and_never_overwritten(tmp_path, content):
    path = tmp_path / "volumes.json"
    path.write_text(content)
    with pytest.warns(PersistenceWarning, match="corrupt"):
        store = VolumeStore(path)
    assert store.keys() == [] and store.in_memory
    store.put("k", 0.5, False)  # runs in memory
    assert store.get("k") == Stored(0.5, False)
    assert path.read_text() == content


def test_an_unreadable_file_is_reported(tmp_path):
    path = tmp_path / "volumes.json"
    path.mkdir()  # a directory where the file should be
    with pytest.warns(PersistenceWarning, match="cannot read"):
        store = VolumeStore(path)
    assert store.get("k") is None
