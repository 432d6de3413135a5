from __future__ import annotations

import inspect
import subprocess
import sys

import audiolab


def test_all_is_complete_and_sorted():
    public = {
        name for name in dir(audiolab)
        if not name.startswith("_") and not inspect.ismodule(getattr(audiolab, name))
    }
    assert set(audiolab.__all__) == public
    assert isinstance(audiolab.__all__, tuple)
    assert list(audiolab.__all__) == sorted(audiolab.__all__)


def test_importing_audiolab_imports_no_backend_numpy_or_widget_library():
    code = (
        "import sys, audiolab; "
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'pulsectl', 'pulsectl_asyncio', 'pycaw', 'comtypes', 'sounddevice', 'ipywidgets', "
        "'anywidget', 'matplotlib') or m.startswith(('audiolab.backends.sim', 'audiolab.backends.pulse', "
        "'audiolab.backends.wasapi', 'audiolab.widgets', 'audiolab.audio.synth', 'audiolab.audio.bank', "
        "'audiolab.audio.mixer', 'audiolab.audio.sinks', 'audiolab.focus'))]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
