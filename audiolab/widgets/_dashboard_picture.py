"""The dashboard as a PNG: its rows as the browser shows them, for exported notebooks (see pictures.py).

Drawn with Pillow (which matplotlib brings) and matplotlib's DejaVu fonts: a few milliseconds, where a
matplotlib figure took about 300 ms on the kernel's loop thread when a cell ended, long enough to starve
the listen stream."""

from __future__ import annotations

import functools
import io
import math
import os
from collections.abc import Sequence
from typing import Any

BG, PANEL, LINE, TEXT, DIM = "#10151d", "#161d28", "#263142", "#e8edf5", "#8f9bb0"
STATE_COLOURS = {"active": "#1f9d55", "inactive": "#3b4758", "expired": "#9b2c2c"}
FOCUS_COLOURS = {"ducked": "#f5c518", "paused": "#4da3ff", "stopped": "#ff6b6b", "denied": "#ff6b6b",
                 "deactivated": "#b794f4"}
FLOOR_DB = -60.0
WIDTH, HEAD, ROW = 1100, 85, 50
COLUMNS = (16, 242, 363, 473, 632, 786)  # session, role, state, volume, peak, focus (pixels)


@functools.cache
def _font(size: int, bold: bool = False) -> Any:
    import matplotlib
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(os.path.join(matplotlib.get_data_path(), "fonts", "ttf", name), size)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def picture_height(rows: int) -> int:
    """The picture's height in pixels for ``rows`` rows."""
    return HEAD + ROW * max(rows, 1) + 15


def dashboard_png(title: str, backend: str, rows: Sequence[dict[str, Any]], peaks: Sequence[float] = ()) -> bytes:
    """The rows (``Board.row_dict`` dicts, in display order) with their newest meter peaks, as PNG bytes."""
    from PIL import Image, ImageDraw

    n = len(rows)
    image = Image.new("RGB", (WIDTH, picture_height(n)), BG)
    d = ImageDraw.Draw(image)
    d.text((16, 32), title, fill=TEXT, font=_font(19, True), anchor="lm")
    d.text((WIDTH - 16, 32), f"{n} session{'s' if n != 1 else ''} \u00b7 {backend} \u00b7 picture of the last state",
           fill=DIM, font=_font(12), anchor="rm")
    metered = any(p > 0 for p in peaks)  # no view on screen, no meters: the column is left out
    for x, name in zip(COLUMNS, ("SESSION", "ROLE", "STATE", "VOLUME", "PEAK", "FOCUS"), strict=True):
        if name != "PEAK" or metered:
            d.text((x, 68), name, fill=DIM, font=_font(11), anchor="lm")
    if not rows:
        d.text((WIDTH // 2, HEAD + ROW // 2), "No audio sessions yet.", fill=DIM, font=_font(13), anchor="mm")
    for i, row in enumerate(rows):
        y = HEAD + i * ROW
        mid = y + ROW // 2
        d.rectangle((5, y + 2, WIDTH - 6, y + ROW - 3), fill=PANEL)
        ended = row.get("state") == "expired"
        d.text((COLUMNS[0], mid - 8), _clip(str(row.get("name", "")), 26), fill=DIM if ended else TEXT,
               font=_font(14, True), anchor="lm")
        sub = row.get("app") if row.get("app") != row.get("name") else row.get("id")
        d.text((COLUMNS[0], mid + 11), _clip(str(sub), 34), fill=DIM, font=_font(10), anchor="lm")
        d.text((COLUMNS[1], mid), str(row.get("role", "")), fill=TEXT, font=_font(12), anchor="lm")
        state = str(row.get("state", ""))
        d.rounded_rectangle((COLUMNS[2], mid - 11, COLUMNS[2] + 76, mid + 11), radius=6,
                            fill=STATE_COLOURS.get(state, LINE))
        d.text((COLUMNS[2] + 38, mid), state.capitalize(), fill=TEXT, font=_font(11), anchor="mm")
        volume = min(1.0, max(0.0, float(row.get("volume", 0.0))))
        d.rectangle((COLUMNS[3], mid - 4, COLUMNS[3] + 100, mid + 4), fill=LINE)
        if volume > 0:
            d.rectangle((COLUMNS[3], mid - 4, COLUMNS[3] + round(100 * volume), mid + 4),
                        fill=DIM if row.get("muted") else "#4da3ff")
        label = "muted" if row.get("muted") else f"{round(volume * 100)}%"
        d.text((COLUMNS[3] + 108, mid), label, fill=TEXT, font=_font(12), anchor="lm")
        if metered:
            peak = peaks[i] if i < len(peaks) else 0.0
            db = 20 * math.log10(peak) if peak > 1e-6 else -math.inf
            frac = 0.0 if not db > FLOOR_DB else min(1.0, 1 - db / FLOOR_DB)
            d.rectangle((COLUMNS[4], mid - 7, COLUMNS[4] + 130, mid + 7), fill=LINE)
            if frac > 0:
                d.rectangle((COLUMNS[4], mid - 7, COLUMNS[4] + round(130 * frac), mid + 7), fill="#1fbf75")
        focus = str(row.get("focus") or "\u2014")
        colour = FOCUS_COLOURS.get(str(row.get("focus_kind") or ""), TEXT)
        why = str(row.get("why") or "") if row.get("focus") else ""
        d.text((COLUMNS[5], mid - (8 if why else 0)), _clip(focus, 40), fill=colour, font=_font(12), anchor="lm")
        if why:
            d.text((COLUMNS[5], mid + 11), _clip(f"why: {why}", 52), fill=DIM, font=_font(10), anchor="lm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
