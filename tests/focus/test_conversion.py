"""The committed harmonyos.json is a faithful, reproducible conversion of the OpenHarmony XML."""

from __future__ import annotations

import importlib.util
import json
import xml.etree.ElementTree as ET

from .conftest import REPO

spec = importlib.util.spec_from_file_location("convert_harmonyos_policy", REPO / "tools" / "convert_harmonyos_policy.py")
convert = importlib.util.module_from_spec(spec)
spec.loader.exec_module(convert)
JSON = REPO / "datasets" / "focus" / "harmonyos.json"


def test_every_xml_entry_survives(xml_path):
    data = json.loads(JSON.read_text(encoding="utf-8"))
    shadowed = [tuple(x) for x in data["shadowed"]]
    seen_pairs = set()
    count = 0
    # Parse the XML independently of the converter.
    for outer in ET.parse(xml_path).getroot():
        existing = outer.get("value")
        for group in outer.find("focus_table"):
            for child in group:
                count += 1
                incoming = child.get("value")
                if group.tag == "deny":
                    cell = ["deny", None, None, None]
                else:
                    cell = [group.tag, child.get("action_type"), child.get("action_on"), child.get("is_forced")]
                if (existing, incoming) in seen_pairs:
                    assert (existing, incoming, *cell) in shadowed
                else:
                    assert data["table"][existing][incoming] == cell, (existing, incoming)
                    seen_pairs.add((existing, incoming))
    assert count == sum(len(r) for r in data["table"].values()) + len(shadowed) == 1089


def test_committed_json_equals_fresh_conversion(xml_path):
    assert convert.dumps(convert.convert(xml_path)) == JSON.read_text(encoding="utf-8")
    assert convert.main([str(xml_path), "--out", str(JSON), "--check"]) == 0


def test_duplicate_pair_keeps_first_like_openharmony(xml_path):
    data = json.loads(JSON.read_text(encoding="utf-8"))
    # SOURCE_TYPE_REMOTE_CAST lists SOURCE_TYPE_VOICE_CALL in <shared> and again in <private>.
    assert data["table"]["SOURCE_TYPE_REMOTE_CAST"]["SOURCE_TYPE_VOICE_CALL"] == ["shared", "PLAY", "incoming", "true"]
    assert data["shadowed"] == [["SOURCE_TYPE_REMOTE_CAST", "SOURCE_TYPE_VOICE_CALL", "private", "STOP", "existing", "true"]]


def test_converter_rejects_malformed_xml(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<audio_focus_policy><focus_type value='A'><focus_table><weird/></focus_table></focus_type></audio_focus_policy>")
    assert convert.main([str(bad), "--out", str(tmp_path / "out.json")]) == 2
    bad.write_text("<not_it/>")
    assert convert.main([str(bad), "--out", str(tmp_path / "out.json")]) == 2
