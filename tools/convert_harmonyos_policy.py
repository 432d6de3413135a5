#!/usr/bin/env python3
"""Convert OpenHarmony's audio interrupt policy XML into datasets/focus/harmonyos.json.

Usage: python tools/convert_harmonyos_policy.py [XML] [--out JSON] [--check]

XML defaults to ../shared/reference/harmonyos/audio_interrupt_policy_config.xml relative to the repo.
``--check`` compares a fresh conversion with the committed JSON and exits 1 when they differ.

The output is deterministic (XML order, fixed layout). Every ``focus_table`` child becomes one table
cell: ``table[existing][incoming] = [group, action_type, action_on, is_forced]`` with the XML's own
strings (a ``deny`` child is ``["deny", null, null, null]``). When the XML lists the same pair twice,
OpenHarmony's parser keeps the first one (it ``emplace``s into a map); the later ones are kept under
``shadowed`` so that no XML entry is lost.

The usage -> stream-type mapping is not in the XML: it is OpenHarmony's ``CreateStreamMap`` (usage-only
entries, AudioStreamCollector), and the session-type grouping is ``SESSION_TYPE_MAP``
(AudioSessionService); both are reproduced below as data.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_XML = REPO.parent / "shared" / "reference" / "harmonyos" / "audio_interrupt_policy_config.xml"
DEFAULT_OUT = REPO / "datasets" / "focus" / "harmonyos.json"

SOURCE = {
    "repository": "eclipse-oniro-mirrors/multimedia_audio_framework",
    "path": "services/audio_policy/server/infra/config/file/audio_interrupt_policy_config.xml",
    "commit": "52141b7cdd5ce8a83c2c46259ec46d0354fd72c7",
    "license": "Apache-2.0",
    "copyright": "Copyright (c) 2021-2022 Huawei Device Co., Ltd.",
}

# StreamUsage / SourceType -> focus type (OpenHarmony CreateStreamMap, CONTENT_TYPE_UNKNOWN rows).
USAGE_TO_FOCUS_TYPE = {
    "STREAM_USAGE_UNKNOWN": "STREAM_MUSIC",
    "STREAM_USAGE_MEDIA": "STREAM_MUSIC",
    "STREAM_USAGE_MUSIC": "STREAM_MUSIC",
    "STREAM_USAGE_VOICE_COMMUNICATION": "STREAM_VOICE_COMMUNICATION",
    "STREAM_USAGE_VIDEO_COMMUNICATION": "STREAM_VOICE_COMMUNICATION",
    "STREAM_USAGE_VOICE_MODEM_COMMUNICATION": "STREAM_VOICE_CALL",
    "STREAM_USAGE_VOICE_ASSISTANT": "STREAM_VOICE_ASSISTANT",
    "STREAM_USAGE_ALARM": "STREAM_ALARM",
    "STREAM_USAGE_VOICE_MESSAGE": "STREAM_VOICE_MESSAGE",
    "STREAM_USAGE_NOTIFICATION_RINGTONE": "STREAM_RING",
    "STREAM_USAGE_RINGTONE": "STREAM_RING",
    "STREAM_USAGE_NOTIFICATION": "STREAM_NOTIFICATION",
    "STREAM_USAGE_ACCESSIBILITY": "STREAM_ACCESSIBILITY",
    "STREAM_USAGE_SYSTEM": "STREAM_SYSTEM",
    "STREAM_USAGE_MOVIE": "STREAM_MOVIE",
    "STREAM_USAGE_GAME": "STREAM_GAME",
    "STREAM_USAGE_AUDIOBOOK": "STREAM_SPEECH",
    "STREAM_USAGE_NAVIGATION": "STREAM_NAVIGATION",
    "STREAM_USAGE_DTMF": "STREAM_DTMF",
    "STREAM_USAGE_ENFORCED_TONE": "STREAM_SYSTEM_ENFORCED",
    "STREAM_USAGE_ULTRASONIC": "STREAM_ULTRASONIC",
    "STREAM_USAGE_VOICE_RINGTONE": "STREAM_VOICE_RING",
    "STREAM_USAGE_VOICE_CALL_ASSISTANT": "STREAM_VOICE_CALL_ASSISTANT",
    # Recording streams are named by their SourceType directly.
    "SOURCE_TYPE_MIC": "SOURCE_TYPE_MIC",
    "SOURCE_TYPE_CAMCORDER": "SOURCE_TYPE_CAMCORDER",
    "SOURCE_TYPE_VOICE_RECOGNITION": "SOURCE_TYPE_VOICE_RECOGNITION",
    "SOURCE_TYPE_VOICE_COMMUNICATION": "SOURCE_TYPE_VOICE_COMMUNICATION",
    "SOURCE_TYPE_VOICE_MESSAGE": "SOURCE_TYPE_VOICE_MESSAGE",
    "SOURCE_TYPE_VOICE_CALL": "SOURCE_TYPE_VOICE_CALL",
    "SOURCE_TYPE_VOICE_TRANSCRIPTION": "SOURCE_TYPE_VOICE_TRANSCRIPTION",
    "SOURCE_TYPE_UNPROCESSED": "SOURCE_TYPE_UNPROCESSED",
    "SOURCE_TYPE_LIVE": "SOURCE_TYPE_LIVE",
    "SOURCE_TYPE_WAKEUP": "SOURCE_TYPE_WAKEUP",
    "SOURCE_TYPE_PLAYBACK_CAPTURE": "SOURCE_TYPE_PLAYBACK_CAPTURE",
    "SOURCE_TYPE_ULTRASONIC": "SOURCE_TYPE_ULTRASONIC",
    "SOURCE_TYPE_REMOTE_CAST": "SOURCE_TYPE_REMOTE_CAST",
}

# audiolab Role -> the public StreamUsage (playback) or SourceType (recording) it stands for.
ROLE_TO_USAGE = {
    "unknown": "STREAM_USAGE_UNKNOWN",
    "music": "STREAM_USAGE_MUSIC",
    "movie": "STREAM_USAGE_MOVIE",
    "game": "STREAM_USAGE_GAME",
    "audiobook": "STREAM_USAGE_AUDIOBOOK",
    "navigation": "STREAM_USAGE_NAVIGATION",
    "voice_communication": "STREAM_USAGE_VOICE_COMMUNICATION",
    "voice_message": "STREAM_USAGE_VOICE_MESSAGE",
    "ringtone": "STREAM_USAGE_RINGTONE",
    "alarm": "STREAM_USAGE_ALARM",
    "notification": "STREAM_USAGE_NOTIFICATION",
    "system": "STREAM_USAGE_SYSTEM",
    "assistant": "STREAM_USAGE_VOICE_ASSISTANT",
    "accessibility": "STREAM_USAGE_ACCESSIBILITY",
    "voice_recognition": "SOURCE_TYPE_VOICE_RECOGNITION",
    "recording": "SOURCE_TYPE_MIC",
}

# Stream type -> session type, used by CONCURRENCY_MIX_WITH_OTHERS ("same type" streams still interrupt).
SESSION_TYPES = {
    "STREAM_ALARM": "SONIFICATION",
    "STREAM_RING": "SONIFICATION",
    "STREAM_MUSIC": "MEDIA",
    "STREAM_MOVIE": "MEDIA",
    "STREAM_GAME": "MEDIA",
    "STREAM_SPEECH": "MEDIA",
    "STREAM_NAVIGATION": "NAVIGATION",
    "STREAM_VOICE_MESSAGE": "MEDIA",
    "STREAM_VOICE_CALL": "CALL",
    "STREAM_VOICE_CALL_ASSISTANT": "CALL",
    "STREAM_VOICE_COMMUNICATION": "VOIP",
    "STREAM_SYSTEM": "SYSTEM",
    "STREAM_SYSTEM_ENFORCED": "SYSTEM",
    "STREAM_ACCESSIBILITY": "SYSTEM",
    "STREAM_ULTRASONIC": "SYSTEM",
    "STREAM_NOTIFICATION": "NOTIFICATION",
    "STREAM_DTMF": "DTMF",
    "STREAM_VOICE_ASSISTANT": "VOICE_ASSISTANT",
}

GROUPS = ("deny", "shared", "private")


class ConversionError(ValueError):
    pass


def xml_entries(xml_path: Path) -> list[tuple[str, str, list]]:
    """Every focus_table child of the XML, in document order: (existing, incoming, cell)."""
    root = ET.parse(xml_path).getroot()
    if root.tag != "audio_focus_policy":
        raise ConversionError(f"{xml_path}: root element is <{root.tag}>, expected <audio_focus_policy>")
    out: list[tuple[str, str, list]] = []
    for outer in root:
        if outer.tag != "focus_type" or not outer.get("value"):
            raise ConversionError(f"{xml_path}: unexpected <{outer.tag}> {outer.attrib} under the root")
        existing = outer.get("value")
        for table in outer:
            if table.tag != "focus_table":
                raise ConversionError(f"{xml_path}: {existing}: unexpected <{table.tag}>")
            for group in table:
                if group.tag not in GROUPS:
                    raise ConversionError(f"{xml_path}: {existing}: unknown group <{group.tag}>")
                for child in group:
                    incoming = child.get("value")
                    if child.tag != "focus_type" or not incoming:
                        raise ConversionError(f"{xml_path}: {existing}/{group.tag}: bad child {child.attrib}")
                    if group.tag == "deny":
                        cell = ["deny", None, None, None]
                    else:
                        cell = [group.tag, child.get("action_type"), child.get("action_on"), child.get("is_forced")]
                        if None in cell:
                            raise ConversionError(f"{xml_path}: {existing} -> {incoming}: missing attribute")
                    out.append((existing, incoming, cell))
    return out


def convert(xml_path: Path) -> dict:
    entries = xml_entries(xml_path)
    table: dict[str, dict[str, list]] = {}
    shadowed: list[list] = []
    for existing, incoming, cell in entries:
        row = table.setdefault(existing, {})
        if incoming in row:
            shadowed.append([existing, incoming, *cell])
        else:
            row[incoming] = cell
    return {
        "format": "audiolab.focus/1",
        "kind": "harmonyos",
        "description": "OpenHarmony default audio interrupt (focus) table; outer key = stream holding focus, "
        "inner key = incoming stream; cell = [group, action_type, action_on, is_forced] as in the XML.",
        "source": {**SOURCE, "sha256": hashlib.sha256(xml_path.read_bytes()).hexdigest()},
        "settings": {"duck_gain": 0.2},
        "role_to_usage": ROLE_TO_USAGE,
        "usage_to_focus_type": USAGE_TO_FOCUS_TYPE,
        "session_types": SESSION_TYPES,
        "table": table,
        "shadowed": shadowed,
    }


def dumps(data: dict) -> str:
    """Fixed layout: one table cell per line, everything else indented JSON."""
    head = {k: v for k, v in data.items() if k not in ("table", "shadowed")}
    text = json.dumps(head, indent=2, ensure_ascii=False)[:-2]
    lines = [text + ",", '  "table": {']
    rows = list(data["table"].items())
    for i, (existing, row) in enumerate(rows):
        lines.append(f"    {json.dumps(existing)}: {{")
        cells = list(row.items())
        for j, (incoming, cell) in enumerate(cells):
            comma = "," if j < len(cells) - 1 else ""
            lines.append(f"      {json.dumps(incoming)}: {json.dumps(cell)}{comma}")
        lines.append("    }" + ("," if i < len(rows) - 1 else ""))
    lines.append("  },")
    lines.append('  "shadowed": [')
    for i, item in enumerate(data["shadowed"]):
        lines.append("    " + json.dumps(item) + ("," if i < len(data["shadowed"]) - 1 else ""))
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("xml", nargs="?", type=Path, default=DEFAULT_XML)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if --out differs from a fresh conversion")
    args = parser.parse_args(argv)
    try:
        text = dumps(convert(args.xml))
    except (OSError, ET.ParseError, ConversionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{args.out} differs from a fresh conversion")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(args.out)
    print(f"wrote {args.out} ({sum(len(r) for r in convert(args.xml)['table'].values())} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
