"""The persistence file: atomic writes; a corrupt file is reported and replaced, never a crash."""

from __future__ import annotations

import json
import os

import pytest

from audiolab.backends.sim.persistence import PersistenceWarning, VolumeStore


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
    with pytest.raises(OSError, match="disk full"):
        store.put("k", 0.9, False)
    assert json.loads(path.read_text())["sessions"]["k"]["volume"] == 0.5
    assert os.listdir(tmp_path) == ["volumes.json"]


@pytest.mark.parametrize(
    "content",
    ["{not json", "[]", '{"version": 99, "sessions": {}}', '{"version": 1, "sessions": {"k": {"volume": 7, "muted": false}}}',
     '{"version": 1, "sessions": {"k": {"volume": 0.5}}}', '{"version": 1, "sessions": []}', "\x00\x01"],
)
def test_a_corrupt_file_is_reported_and_replaced_by_defaults(tmp_path, content):
    path = tmp_path / "volumes.json"
    path.write_text(content)
    with pytest.warns(PersistenceWarning, match="corrupt"):
        store = VolumeStore(path)
    assert store.keys() == []
    assert json.loads(path.read_text()) == {"version": 1, "sessions": {}}


def test_an_unreadable_file_is_reported(tmp_path):
    path = tmp_path / "volumes.json"
    path.mkdir()  # a directory where the file should be
    with pytest.warns(PersistenceWarning, match="cannot read"):
        store = VolumeStore(path)
    assert store.get("k") is None
