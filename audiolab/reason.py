"""Why a focus change happened: the :class:`Reason` every focus event carries.

A reason names the policy that decided (its name, its kind and the version of the data it was taken from),
the rule that fired as structured data, one sentence a student can read, and the gain the rule predicts
where a gain is involved. The ``rule`` mapping depends on the policy kind:

=============  ==========================================================================================
kind           rule keys
=============  ==========================================================================================
harmonyos      ``table``, ``existing``/``incoming`` (the table's stream types), ``existing_usage``/
               ``incoming_usage``, ``action`` (PLAY DUCK PAUSE STOP DENY), ``action_on`` (incoming, existing,
               both), ``force`` (FORCE or SHARE), ``strategy`` (a session strategy that changed the cell, or
               None); a deactivation: ``deactivation`` (TIMEOUT, LOWER_PRIORITY) and ``idle_seconds``
windows        ``ducking`` (the Communications tab setting), ``gain``, ``fade_seconds``,
               ``communications_device``, ``communications_session``, ``communications_sessions`` (the count)
pulseaudio     ``module`` (module-role-ducking or module-role-cork), ``arguments`` (as ``pactl load-module``
               takes them), ``group`` (the ``/``-separated group), ``trigger_role``, ``target_role``,
               ``device``, ``global``
wireplumber    ``winner``/``loser`` (the role sinks), ``winner_priority``/``loser_priority``,
               ``winner_roles``/``loser_roles``, ``action`` (mix, duck, cork), ``duck_level``
android        ``source`` (the AOSP file), ``rule`` (focusLossForGainRequest, handleFocusLoss,
               canReassignAudioFocus, requestAudioFocus), ``gain`` (the request's gain type),
               ``requester_usage``/``holder_usage``, ``previous_loss``/``loss`` (none, loss, loss_transient,
               loss_transient_can_duck), ``handled_by`` (framework or app), ``why_app``, ``duck_gain``,
               ``ramp_seconds``; a locked stack: ``owner_usage``, ``result`` (failed or delayed) and ``action``
               (DENY or DELAY)
ios            ``rule`` (nonmixable, call, duckOthers, interruptSpokenAudioAndMixWithOthers, setActive, silent
               switch, mixes), ``category``/``options``/``mode`` of the acting session, ``other_category``/
               ``other_options``/``other_mode``, ``page`` (Apple's page), ``authoritative`` (False where Apple
               does not write the rule down); a failed activation: ``action`` DENY
android-      ``source``, ``rule`` (evaluateRequest, evaluateFocusRequestLocked, swapDelayedAudioFocusRequestLocked),
automotive     ``holder_context``/``requested_context`` and their usages, ``gain``, ``interaction`` (reject, exclusive,
               concurrent), ``setting`` (reject_navigation_during_call when that cell decided), ``loss``, ``why``;
               a refused or delayed request: ``result`` and ``action`` (DENY or DELAY)
wireplumber-   ``script``, ``winner_role``/``loser_role`` (the endpoint roles), their priorities and
0.4            ``winner_media_role``/``loser_media_role`` (as the streams set them), ``fallback`` (a media.role that
               is no role or alias went to the lowest-priority role), ``action``, ``action_key`` (action.<role> or
               action.default), ``duck_level``
none           (empty: everything mixes)
=============  ==========================================================================================

A reason with ``released`` set explains an undo (an unduck, a resume): the rule that no longer applies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from ._by_fields import by_fields

RuleValue = str | int | float | bool | None | tuple[str, ...]
"""What a rule's fields hold: JSON scalars, or a tuple of strings (lists of roles)."""


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Reason:
    """The policy and the rule behind one focus decision. Immutable; :meth:`to_dict` and :meth:`from_dict`
    round-trip it through JSON."""

    policy: str
    """The policy's name ("harmonyos", "pulseaudio", or a file path for a custom policy)."""
    kind: str
    """The policy family: harmonyos, windows, pulseaudio, wireplumber, wireplumber-0.4, android,
    android-automotive, ios or none."""
    text: str
    """One sentence a student can read."""
    rule: Mapping[str, RuleValue] = field(default_factory=dict, hash=False)
    """The rule as data (see the module docstring for the keys of each kind)."""
    version: str | None = None
    """Where the policy's data came from (a release or a source commit), when known."""
    predicted_gain: float | None = None
    """The linear gain the rule imposes (0.0 silences, 1.0 leaves alone), where a gain is involved."""
    released: bool = False
    """True when this explains an undo: the rule stopped applying."""
    label: str = ""
    """A few words naming the rule, for a plot's arrow ("RING over MUSIC: PAUSE", "module-role-cork")."""

    def __post_init__(self) -> None:
        for name in ("policy", "kind", "text", "label"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"Reason.{name} must be a str")
        if self.predicted_gain is not None and not (
            isinstance(self.predicted_gain, (int, float)) and 0.0 <= self.predicted_gain <= 1.0
        ):
            raise ValueError(f"Reason.predicted_gain must be in 0..1 or None, got {self.predicted_gain!r}")
        object.__setattr__(self, "rule", MappingProxyType({k: _frozen(v) for k, v in dict(self.rule).items()}))

    def __str__(self) -> str:
        return f"no longer applies: {self.text}" if self.released else self.text

    @property
    def predicted_db(self) -> float | None:
        """The predicted gain in dB (``-inf`` for silence), or None."""
        if self.predicted_gain is None:
            return None
        return 20.0 * math.log10(self.predicted_gain) if self.predicted_gain > 0 else -math.inf

    def release(self) -> Reason:
        """The same rule, explaining its undo."""
        return replace(self, released=True)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (tuples become lists)."""
        return {
            "policy": self.policy,
            "kind": self.kind,
            "version": self.version,
            "rule": {k: list(v) if isinstance(v, tuple) else v for k, v in self.rule.items()},
            "text": self.text,
            "predicted_gain": self.predicted_gain,
            "released": self.released,
            "label": self.label,
        }

    @classmethod
    def from_dict(cls, data: object) -> Reason:
        """The inverse of :meth:`to_dict`. Raises TypeError or ValueError on malformed input."""
        if not isinstance(data, dict):
            raise TypeError("a reason is a JSON object")
        rule = data.get("rule", {})
        if not isinstance(rule, dict) or not all(isinstance(k, str) for k in rule):
            raise TypeError("a reason's rule is an object")
        gain = data.get("predicted_gain")
        if gain is not None and (isinstance(gain, bool) or not isinstance(gain, (int, float))):
            raise TypeError("a reason's predicted_gain is a number or null")
        released = data.get("released", False)
        version = data.get("version")
        label = data.get("label", "")
        if not isinstance(label, str):
            raise TypeError("a reason's label is a string")
        if not isinstance(released, bool) or not (version is None or isinstance(version, str)):
            raise TypeError("a reason's released is a boolean and its version a string or null")
        return cls(
            policy=_text(data, "policy"),
            kind=_text(data, "kind"),
            text=_text(data, "text"),
            rule=rule,
            version=version,
            predicted_gain=None if gain is None else float(gain),
            released=released,
            label=label,
        )


def _text(data: dict[str, object], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise TypeError(f"a reason's {key} must be a string")
    return value


def _frozen(value: object) -> RuleValue:
    if isinstance(value, list | tuple):
        if not all(isinstance(v, str) for v in value):
            raise TypeError("a rule's lists hold strings only")
        return tuple(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"a rule's values are JSON scalars or lists of strings, not {type(value).__name__}")
