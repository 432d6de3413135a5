"""`audiolab.focus` loads each of its names on first use: every name resolves to its module's object, submodules
resolve as attributes, `import *` gives all of them, and an unknown name is an AttributeError."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import audiolab.focus as focus


def test_every_exported_name_is_its_home_module_object() -> None:
    for name in focus.__all__:
        home = importlib.import_module(f"audiolab.focus.{focus._HOME[name]}")
        assert getattr(focus, name) is getattr(home, name), name
    assert set(focus._HOME) == set(focus.__all__)


def test_submodules_and_unknown_names() -> None:
    assert focus.roles.markdown_table().startswith("| role")
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = focus.no_such_name
    assert "FocusEngine" in dir(focus)


def test_star_import_and_a_cold_package_load_nothing_eagerly() -> None:
    probe = ("import sys, audiolab.focus; cold = 'audiolab.focus.engine' not in sys.modules; "
             "from audiolab.focus import *; print(cold, FocusEngine.__name__, 'audiolab.focus.engine' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.split() == ["True", "FocusEngine", "True"]
