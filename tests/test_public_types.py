"""No ``Any`` in a public signature: every public function, method and property of the public modules says
what it takes and gives (issue 16, item 8)."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = ("audiolab", "audiolab.abc", "audiolab.testing", "audiolab.tones", "audiolab.scenarios",
           "audiolab.widgets", "audiolab.focus")


def public_callables(module_name: str) -> list[tuple[str, object]]:
    module = importlib.import_module(module_name)
    found: list[tuple[str, object]] = []
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                if isinstance(value, property):
                    value = value.fget
                elif isinstance(value, (staticmethod, classmethod)):
                    value = value.__func__
                if callable(value):
                    found.append((f"{module_name}.{name}.{attr}", value))
        elif callable(obj):
            found.append((f"{module_name}.{name}", obj))
    return found


@pytest.mark.parametrize("module_name", MODULES)
def test_no_public_signature_says_any(module_name: str) -> None:
    callables = public_callables(module_name)
    assert callables, f"{module_name} exports no callable to check"
    with_any = []
    for qualname, fn in callables:
        try:
            signature = str(inspect.signature(fn))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue  # a builtin without a signature
        if "Any" in signature.replace("AnyIO", ""):
            with_any.append(f"{qualname}{signature}")
    assert with_any == []
