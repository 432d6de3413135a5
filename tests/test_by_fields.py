"""``@by_fields`` answers as ``@dataclass(frozen=True)`` does: each behaviour checked against a twin made by dataclass,
and every frozen dataclass of audiolab has it (a mix in one hierarchy would compare the wrong fields)."""

from __future__ import annotations

import dataclasses
import importlib
import pickle
import pkgutil
from dataclasses import dataclass, field
from typing import Any

import pytest

import audiolab
from audiolab import _by_fields
from audiolab._by_fields import by_fields


def shared(body: type) -> type:
    """What audiolab writes: the dataclass without its own eq and repr, then the shared ones."""
    return by_fields(dataclass(frozen=True, eq=False, repr=False)(body))


def twins(**fields: Any) -> tuple[type, type]:
    """One class made by each decorator from the same body."""
    annotations = dict.fromkeys(fields, "object")
    made = []
    for decorate in (dataclass(frozen=True), shared):
        body = type("Value", (), {"__annotations__": dict(annotations), **{k: v for k, v in fields.items() if v is not None}})
        made.append(decorate(body))
    return made[0], made[1]


CASES = {
    "no fields": {},
    "one field": {"a": None},
    "defaults": {"a": None, "b": 2, "c": field(default="x")},
    "compare=False": {"a": None, "b": field(default=0, compare=False)},
    "hash=False": {"a": None, "b": field(default_factory=dict, hash=False)},
    "repr=False": {"a": None, "b": field(default=0, repr=False)},
}


@pytest.mark.parametrize("name", CASES)
def test_eq_hash_repr_match_the_dataclass_ones(name: str) -> None:
    theirs, ours = twins(**CASES[name])
    values = [{}, {"a": 1}, {"a": 1, "b": 3}, {"a": [1], "b": 3}] if CASES[name] else [{}]
    for left in values:
        for right in values:
            try:
                t1, t2 = theirs(**left), theirs(**right)
                o1, o2 = ours(**left), ours(**right)
            except TypeError:  # a field this case does not have
                continue
            assert (o1 == o2) == (t1 == t2)
            assert (o1 != o2) == (t1 != t2)
            assert repr(o1) == repr(t1)
            try:
                expected = hash(t1)
            except TypeError:  # an unhashable field value: ours refuses alike
                with pytest.raises(TypeError):
                    hash(o1)
            else:
                assert hash(o1) == expected  # the same tuple is hashed
                if o1 == o2:
                    assert hash(o1) == hash(o2)


def test_other_classes_and_subclasses_are_not_equal() -> None:
    @by_fields
    @dataclass(frozen=True, eq=False, repr=False)
    class Point:
        x: int

    @by_fields
    @dataclass(frozen=True, eq=False, repr=False)
    class Point3(Point):
        z: int = 0

    @by_fields
    @dataclass(frozen=True, eq=False, repr=False)
    class Other:
        x: int

    assert Point(1) == Point(1) and Point(1) != Point(2)
    assert Point(1) != Other(1) and Point(1) != Point3(1)
    assert Point.__eq__(Point(1), 1) is NotImplemented
    assert Point3(1, 2) == Point3(1, 2) and Point3(1, 2) != Point3(1, 3)  # the subclass compares its own fields
    assert repr(Point3(1, 2)).endswith("Point3(x=1, z=2)")


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Tagged:
    """A module-level value (pickle finds classes by name)."""

    name: str
    tags: tuple[str, ...] = ()


def test_the_rest_is_the_dataclass_own() -> None:
    value = Tagged(name="a", tags=("x",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.name = "b"  # type: ignore[misc]
    assert dataclasses.replace(value, name="b") == Tagged(name="b", tags=("x",))
    assert [f.name for f in dataclasses.fields(Tagged)] == ["name", "tags"]
    with pytest.raises(TypeError):
        Tagged("a")  # type: ignore[misc]  # keyword-only, as asked
    assert pickle.loads(pickle.dumps(value)) == value
    assert {value: 1}[Tagged(name="a", tags=("x",))] == 1


def test_slots_and_an_own_repr_are_kept() -> None:
    @by_fields
    @dataclass(frozen=True, slots=True, eq=False, repr=False)
    class Slotted:
        a: int

        def __repr__(self) -> str:
            return f"<{self.a}>"

    assert not hasattr(Slotted(1), "__dict__")
    assert repr(Slotted(1)) == "<1>" and Slotted(1) == Slotted(1)


def test_a_recursive_value_shows_dots_instead_of_recursing() -> None:
    @by_fields
    @dataclass(frozen=True, eq=False, repr=False)
    class Box:
        items: list[object]

    box = Box([])
    box.items.append(box)
    assert repr(box).endswith("Box(items=[...])")


def test_a_class_with_its_own_eq_or_generated_methods_is_refused() -> None:
    with pytest.raises(TypeError, match="own __eq__"):

        @by_fields
        @dataclass(frozen=True, eq=False, repr=False)
        class Odd:
            a: int

            def __eq__(self, other: object) -> bool:
                return True

            __hash__ = object.__hash__


def test_every_frozen_dataclass_of_audiolab_has_the_shared_methods() -> None:
    mixed = []
    for module in pkgutil.walk_packages(audiolab.__path__, "audiolab."):
        loaded = importlib.import_module(module.name)
        for value in vars(loaded).values():
            params = getattr(value, "__dataclass_params__", None)
            if isinstance(value, type) and value.__module__ == module.name and params is not None and params.frozen:
                if value.__eq__ is not _by_fields._eq:
                    mixed.append(f"{module.name}.{value.__qualname__}")
    assert mixed == []


def test_a_dataclass_that_generates_its_own_methods_is_refused() -> None:
    @dataclass(frozen=True)
    class Generated:
        a: int

    with pytest.raises(TypeError, match="goes above"):
        by_fields(Generated)
