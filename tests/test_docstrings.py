"""Every public name has a docstring of its own: each name in ``__all__`` of audiolab and of its public
modules (no part of the module's path starts with an underscore)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import audiolab


def public_modules() -> list[ModuleType]:
    """audiolab and every public module of it that declares ``__all__``."""
    found = [audiolab]
    for info in pkgutil.walk_packages(audiolab.__path__, "audiolab."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        module = importlib.import_module(info.name)
        if hasattr(module, "__all__"):
            found.append(module)
    return found


def own_docstring(obj: object) -> str:
    """The docstring written for ``obj``, not one generated (dataclasses) or inherited (enums, exceptions)."""
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    if not doc or (inspect.isclass(obj) and doc.startswith(f"{obj.__name__}(")):
        return ""
    return doc.strip()


def documented_names() -> list[tuple[str, object]]:
    names = []
    for module in public_modules():
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isroutine(obj):
                names.append((f"{module.__name__}.{name}", obj))
    return names


def test_the_public_modules_are_found() -> None:
    names = {module.__name__ for module in public_modules()}
    assert {"audiolab", "audiolab.tones", "audiolab.focus", "audiolab.scenarios", "audiolab.widgets"} <= names


@pytest.mark.parametrize(("name", "obj"), documented_names(), ids=[n for n, _ in documented_names()])
def test_every_public_name_has_a_docstring(name: str, obj: object) -> None:
    assert own_docstring(obj), f"{name} has no docstring"
