"""``@by_fields``: one shared ``__eq__``, ``__hash__`` and ``__repr__`` for audiolab's frozen dataclasses.

``@dataclass(frozen=True)`` compiles six methods for every class, about half a millisecond a class on Python 3.11,
and audiolab defines over a hundred value classes: that was a tenth of the CLI's start. So they are declared ::

    @by_fields
    @dataclass(frozen=True, eq=False, repr=False)
    class Point:
        x: int

and ``by_fields`` gives them functions shared by all, which read the class's fields: they answer exactly as the
generated ones would (same field order, the ``compare``, ``hash`` and ``repr`` flags, ``NotImplemented`` for an
instance of another class). The rest (``__init__``, frozenness, ``fields()``, ``replace()``, ``__match_args__``,
pickling) is the dataclass's own, and type checkers and the API docs see a plain dataclass.
"""

from __future__ import annotations

import dataclasses
import operator
import reprlib
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")
_Getter = Callable[[object], tuple[object, ...]]


class _Layout:
    """What the shared methods read of one class: its compared and hashed field values, its shown names."""

    __slots__ = ("compared", "hashed", "shown")

    def __init__(self, cls: type) -> None:
        fields = dataclasses.fields(cls)
        self.compared = _getter([f.name for f in fields if f.compare])
        self.hashed = _getter([f.name for f in fields if (f.compare if f.hash is None else f.hash)])
        self.shown = tuple(f.name for f in fields if f.repr)


_LAYOUTS: dict[type, _Layout] = {}


def _layout(cls: type) -> _Layout:
    layout = _LAYOUTS.get(cls)
    if layout is None:
        layout = _LAYOUTS[cls] = _Layout(cls)
    return layout


def _getter(names: list[str]) -> _Getter:
    """A function returning the tuple of ``names``' values (attrgetter returns a bare value for one name)."""
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        get_one = operator.attrgetter(names[0])
        return lambda obj: (get_one(obj),)
    return operator.attrgetter(*names)


def _eq(self: object, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented  # type: ignore[no-any-return]  # typeshed types NotImplemented as Any
    compared = _layout(self.__class__).compared
    return compared(self) == compared(other)


def _hash(self: object) -> int:
    return hash(_layout(self.__class__).hashed(self))


@reprlib.recursive_repr()
def _repr(self: object) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _layout(self.__class__).shown)
    return f"{self.__class__.__qualname__}({shown})"


_SHARED: tuple[tuple[str, Callable[..., Any]], ...] = (("__eq__", _eq), ("__hash__", _hash), ("__repr__", _repr))


def by_fields(cls: type[_T]) -> type[_T]:
    """Give a ``@dataclass(frozen=True, eq=False, repr=False)`` the shared eq, hash and repr (see the module)."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or params.eq or params.repr:
        raise TypeError(f"@by_fields goes above @dataclass(frozen=True, eq=False, repr=False), not on {cls.__qualname__}")
    if "__eq__" in cls.__dict__:
        raise TypeError(f"{cls.__qualname__} has its own __eq__: @by_fields would replace it")
    for name, method in _SHARED:
        if name not in cls.__dict__:  # a class's own __repr__ (or __hash__) stays, as with @dataclass
            setattr(cls, name, method)
    return cls
