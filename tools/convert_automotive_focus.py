#!/usr/bin/env python3
"""Extract the Android Automotive focus interaction matrix from FocusInteraction.java into
datasets/focus/android-automotive.json.

Usage: python tools/convert_automotive_focus.py [JAVA] [--out JSON] [--check]

JAVA defaults to ../shared/reference/automotive/FocusInteraction.java relative to the repo. The matrix of the
static initializer (one row per focus holder's car audio context, one cell per requested context, each
INTERACTION_REJECT, INTERACTION_EXCLUSIVE or INTERACTION_CONCURRENT) replaces the ``matrix`` of the output
file; everything else in that file (provenance, settings, the role mapping) is kept as it is. ``--check``
exits 1 when the committed file's matrix differs from a fresh extraction.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_JAVA = REPO.parent / "shared" / "reference" / "automotive" / "FocusInteraction.java"
DEFAULT_OUT = REPO / "datasets" / "focus" / "android-automotive.json"

_CONTEXT = r"(?:/\*\s*(\w+)=\s*\*/\s*0|(\w+))"  # a context constant, or `/* INVALID= */ 0`
_ROW = re.compile(rf"INTERACTION_MATRIX\.append\(\s*{_CONTEXT}\s*,\s*new SparseArray")
_CELL = re.compile(rf"^\s*append\(\s*{_CONTEXT}\s*,\s*INTERACTION_(REJECT|EXCLUSIVE|CONCURRENT)\s*\)")
_END = re.compile(r"^\s*\}\);")


class ConversionError(Exception):
    """The Java file does not hold the matrix in the expected shape."""


def extract(java: str) -> dict[str, dict[str, str]]:
    """The interaction matrix as {holder context: {requested context: reject|exclusive|concurrent}}, in the
    file's order."""
    matrix: dict[str, dict[str, str]] = {}
    row: dict[str, str] | None = None
    for number, line in enumerate(java.splitlines(), 1):
        head = _ROW.search(line)
        if head:
            holder = head.group(1) or head.group(2)
            if holder in matrix:
                raise ConversionError(f"line {number}: holder {holder} appears twice")
            row = matrix[holder] = {}
            continue
        if row is None:
            continue
        cell = _CELL.match(line)
        if cell:
            requested = cell.group(1) or cell.group(2)
            if requested in row:
                raise ConversionError(f"line {number}: {requested} appears twice in a row")
            row[requested] = cell.group(3).lower()
        elif _END.match(line):
            row = None
    if not matrix:
        raise ConversionError("no INTERACTION_MATRIX rows found")
    contexts = list(matrix)
    for holder, cells in matrix.items():
        if list(cells) != contexts:
            raise ConversionError(f"row {holder} does not list every context in order: {list(cells)}")
    return matrix


def convert(java_path: Path, out_path: Path) -> dict:
    data = json.loads(out_path.read_text(encoding="utf-8")) if out_path.exists() else {}
    data["matrix"] = extract(java_path.read_text(encoding="utf-8"))
    return data


def dumps(data: dict) -> str:
    """Fixed layout: one matrix row per line."""
    matrix = data["matrix"]
    rest = {k: v for k, v in data.items() if k != "matrix"}
    text = json.dumps(rest, indent=2, ensure_ascii=False)
    rows = ",\n".join(f"    {json.dumps(holder)}: {json.dumps(cells)}" for holder, cells in matrix.items())
    return text[:-2] + ',\n  "matrix": {\n' + rows + "\n  }\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("java", nargs="?", type=Path, default=DEFAULT_JAVA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if --out differs from a fresh extraction")
    args = parser.parse_args(argv)
    try:
        data = convert(args.java, args.out)
    except (OSError, ConversionError, json.JSONDecodeError) as exc:
        print(f"convert_automotive_focus: {exc}", file=sys.stderr)
        return 2
    text = dumps(data)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} differs from a fresh extraction of {args.java}", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: {len(data['matrix'])} x {len(data['matrix'])} contexts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
