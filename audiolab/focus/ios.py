"""iOS / macOS: AVAudioSession categories, options, activation and interruptions.

Each app has one audio session; it is activated when the app's first stream starts (``setActive(true)``) and
deactivated when its last stream stops (``setActive(false)``, with ``notifyOthersOnDeactivation`` unless the
stream's attributes say otherwise). From Apple's documentation (pages listed in ``datasets/focus/ios.json``):

- a category mixes or not (ambient always does; playback, playAndRecord and multiRoute do with mixWithOthers,
  which duckOthers and interruptSpokenAudioAndMixWithOthers imply; those options are allowed only for those
  three categories); activating a nonmixable session interrupts the other nonmixable sessions (Table B-1);
- duckOthers ducks the other sessions from activation to deactivation; interruptSpokenAudioAndMixWithOthers
  interrupts sessions in the spokenAudio mode for as long as it is active;
- a phone call interrupts the active sessions, and a nonmixable session (or any record/playAndRecord one)
  cannot be activated during a call;
- the Ring/Silent switch silences ambient and soloAmbient sessions (a policy setting, off by default);
- an interrupted app gets ``began``; it gets ``ended`` with ``shouldResume`` when the interrupter deactivates
  with notifyOthersOnDeactivation, and no ``ended`` at all otherwise: an ended is not guaranteed.

Apple gives no level for duckOthers; ``duck_gain`` is a setting, and the data file says the figure is not
Apple's. What a call does to mixable sessions is not written either; the model interrupts them too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._by_fields import by_fields
from ..model import Flow, ForceType, Role
from ..reason import Reason, RuleValue
from .actions import Deny, FocusAction, head
from .explain import reason
from .policy import FocusPolicy, PolicyError, level, role_table
from .request import IOS_CATEGORIES, IOS_MODES, IOS_OPTIONS, FocusRequest
from .system import FocusSystem, register

if TYPE_CHECKING:
    from .engine import FocusEngine

MIX_OPTIONS = ("mixWithOthers", "duckOthers", "interruptSpokenAudioAndMixWithOthers")
BEGAN, ENDED = "began", "ended shouldResume"


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Category:
    """One row of Apple's Table B-1, with the page that documents the category."""

    name: str
    mixes: bool
    silenced_by_switch: bool
    interrupts_nonmixable: bool
    io: str
    options_allowed: bool
    page: str


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class IOSConfig:
    """An app's session configuration: category, effective options (implied ones included) and mode."""

    category: str
    options: frozenset[str]
    mode: str
    notify: bool


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class IOSPolicy(FocusPolicy):
    """The categories, what each role sets, the call roles and the duck level (not Apple's figure)."""

    categories: Mapping[str, Category] = field(default_factory=dict, repr=False)
    roles: Mapping[Role, IOSConfig] = field(default_factory=dict, repr=False)
    call_roles: frozenset[Role] = frozenset()
    pages: Mapping[str, str] = field(default_factory=dict, repr=False)
    duck_gain: float = 0.3
    silent_switch: bool = False

    kind = "ios"

    def config(self, req: FocusRequest) -> IOSConfig:
        """The session configuration of the request's app (its role's, with the request's own attributes).
        Raises PolicyError for an option its category does not allow."""
        base = self.roles.get(req.role) or self.roles[Role.UNKNOWN]
        attrs = req.attributes
        category = attrs.category or base.category
        options = set(base.options if attrs.options is None else attrs.options)
        explicit = options - ({"mixWithOthers"} if category == "ambient" else set())
        if explicit and not self.categories[category].options_allowed:
            raise PolicyError(f"ios: {', '.join(sorted(explicit))} can be set only with playback, playAndRecord or "
                              f"multiRoute, not {category}")
        if options & {"duckOthers", "interruptSpokenAudioAndMixWithOthers"} or category == "ambient":
            options.add("mixWithOthers")  # implied
        notify = base.notify if attrs.notify_others_on_deactivation is None else attrs.notify_others_on_deactivation
        return IOSConfig(category, frozenset(options), attrs.mode or base.mode, notify)

    def mixes(self, config: IOSConfig) -> bool:
        return "mixWithOthers" in config.options


def _build(name: str, settings: dict[str, Any], data: dict[str, Any]) -> IOSPolicy:
    pages = data.get("pages")
    cats = data.get("categories")
    if not isinstance(cats, dict) or set(cats) != set(IOS_CATEGORIES) or not isinstance(pages, dict):
        raise PolicyError(f"'categories' must describe exactly {IOS_CATEGORIES}, and 'pages' name Apple's pages")
    if not all(isinstance(v, str) for v in pages.values()):
        raise PolicyError("'pages' must map rule names to page addresses (strings)")
    categories = {}
    for cat, spec in cats.items():
        try:
            categories[cat] = Category(cat, bool(spec["mixes"]), bool(spec["silenced_by_switch"]),
                                       bool(spec["interrupts_nonmixable"]), str(spec["io"]),
                                       bool(spec["options_allowed"]), str(pages[f"category.{cat}"]))
        except (KeyError, TypeError):
            raise PolicyError(f"categories[{cat!r}] needs mixes, silenced_by_switch, interrupts_nonmixable, io, "
                              f"options_allowed, and pages needs 'category.{cat}'") from None
    roles = {}
    for role, spec in role_table(data.get("roles"), "'roles'").items():
        if not isinstance(spec, dict):
            raise PolicyError(f"roles[{role.value!r}] must be an object")
        cat, opts, mode = spec.get("category"), spec.get("options", []), spec.get("mode", "default")
        if cat not in IOS_CATEGORIES or mode not in IOS_MODES or not set(opts) <= set(IOS_OPTIONS):
            raise PolicyError(f"roles[{role.value!r}]: a category of {IOS_CATEGORIES}, options of {IOS_OPTIONS}, "
                              f"a mode of {IOS_MODES}")
        roles[role] = IOSConfig(cat, frozenset(opts), mode, bool(spec.get("notify_others_on_deactivation", True)))
    if Role.UNKNOWN not in roles:
        raise PolicyError("'roles' must map 'unknown'")
    silent = settings.get("silent_switch", False)
    if not isinstance(silent, bool):
        raise PolicyError(f"silent_switch must be true or false, got {silent!r}")
    policy = IOSPolicy(
        name=name,
        settings=settings,
        source=data.get("source", {}),
        categories=categories,
        roles=roles,
        call_roles=frozenset(role_table(dict.fromkeys(data.get("call_roles", []), True), "call_roles")),
        pages=dict(pages),
        duck_gain=level(settings.get("duck_gain", 0.3), "duck_gain"),
        silent_switch=silent,
    )
    for role in roles:  # every role's own configuration must be a valid one
        policy.config(FocusRequest("check", "check", role))
    return policy


@dataclass
class _Session:
    app: str
    config: IOSConfig
    first: FocusRequest
    call: bool


class IOSSystem(FocusSystem):
    """Activation and deactivation of each app's session, and what they do to the others."""

    kind = "ios"
    resume_force = ForceType.SHARE
    policy: IOSPolicy

    def __init__(self, engine: FocusEngine, policy: FocusPolicy) -> None:
        super().__init__(engine, policy)
        self._active: dict[str, _Session] = {}

    def adopt(self, previous: FocusSystem) -> None:
        # Every app with a playing stream has an active session; what the old policy imposed is released.
        for req in self.ledger.streams.values():
            if req.app_id not in self._active and req.flow is Flow.RENDER:
                self._active[req.app_id] = _Session(req.app_id, self.policy.config(req), req,
                                                    req.role in self.policy.call_roles)

    def active(self) -> dict[str, str]:
        """The active sessions: app -> category."""
        return {app: s.config.category for app, s in self._active.items()}

    def start(self, req: FocusRequest, now: float) -> list[FocusAction]:
        policy, ledger = self.policy, self.ledger
        config = policy.config(req)  # a PolicyError before any change
        app = req.app_id
        session = self._active.get(app)
        if session is not None or req.flow is not Flow.RENDER:
            ledger.add(req)
            self._held_like_siblings(req)
            return []
        session = _Session(app, config, req, req.role in policy.call_roles)
        calls = [s for s in self._active.values() if s.call and s.app != app]
        if calls and not session.call:
            call = calls[0]
            if config.category in ("record", "playAndRecord") or not policy.mixes(config):
                return [Deny(**head(now, req.key, call.first, self._refused(config, call)))]
        ledger.add(req)
        self._active[app] = session
        for other in list(self._active.values()):
            if other.app == app:
                continue
            why = self._interrupts(session, other)
            if why is not None:
                self._interrupt(other, session, why)
            elif "duckOthers" in config.options and not other.call:
                self._effect(other, session, "duck", self._ducks(session, other), ("ios-duck", app))
            elif "duckOthers" in other.config.options and not session.call:
                self._effect(session, other, "duck", self._ducks(other, session), ("ios-duck", other.app))
        if policy.silent_switch and policy.categories[config.category].silenced_by_switch:
            text = (f"iOS: the Ring/Silent switch is set to silent, which silences the {config.category} category "
                    f"(Table B-1)")
            why = self._reason(text, {"rule": "silent switch", "category": config.category}, 0.0, "silent switch",
                               page="guide")
            ledger.impose(owner=("ios-silent", app), target=req.key, kind="duck", cause=req, reason=why, gain=0.0)
        return []

    def _held_like_siblings(self, req: FocusRequest) -> None:
        """A new stream of a ducked app is ducked with the app's other streams."""
        siblings = {r.key for r in self.ledger.streams.values() if r.app_id == req.app_id and r.key != req.key}
        ducks = [e for e in self.ledger.effects if e.target in siblings and _owner_kind(e.owner) == "ios-duck"]
        for e in ducks:
            self.ledger.impose(owner=e.owner, target=req.key, kind=e.kind, cause=e.cause, reason=e.reason, gain=e.gain)

    def _effect(self, victim: _Session, by: _Session, kind: str, why: Reason, owner: tuple[str, str]) -> None:
        for stream in [s for s in self.ledger.streams.values() if s.app_id == victim.app]:
            if kind == "duck":
                self.ledger.impose(owner=owner, target=stream.key, kind="duck", cause=by.first, reason=why,
                                   gain=self.policy.duck_gain)
            else:
                self.ledger.impose(owner=owner, target=stream.key, kind="pause", cause=by.first, reason=why,
                                   force=ForceType.SHARE, native=BEGAN, regain=ENDED)

    def _interrupt(self, victim: _Session, by: _Session, why: Reason) -> None:
        """interruptionNotification began: the victim's session is no longer active; its app pauses."""
        del self._active[victim.app]
        self._effect(victim, by, "pause", why, ("ios-interrupt", by.app))

    def _interrupts(self, new: _Session, other: _Session) -> Reason | None:
        """Why activating ``new`` interrupts ``other``, or None."""
        policy = self.policy
        c_new, c_other = new.config, other.config
        if new.call:
            text = (f"iOS: a phone call interrupts the active audio sessions; the {c_other.category} session is "
                    f"deactivated (interruption began)")
            return self._reason(text, self._data("call", c_new, c_other, authoritative=False), 0.0, "call interrupts",
                                page="interruptions")
        if not policy.mixes(c_new) and not policy.mixes(c_other):
            text = (f"iOS: activating a nonmixable {c_new.category} session{_opts(c_new)} interrupts the nonmixable "
                    f"{c_other.category} session{_opts(c_other)} (interruption began)")
            return self._reason(text, self._data("nonmixable", c_new, c_other), 0.0,
                                f"{c_new.category} interrupts {c_other.category}", page=f"category.{c_new.category}")
        if "interruptSpokenAudioAndMixWithOthers" in c_new.options and c_other.mode == "spokenAudio":
            text = (f"iOS: interruptSpokenAudioAndMixWithOthers interrupts sessions in the spokenAudio mode while "
                    f"the {c_new.category} session is active; the {c_other.category} (spokenAudio) session pauses")
            return self._reason(text, self._data("interruptSpokenAudioAndMixWithOthers", c_new, c_other), 0.0,
                                "interrupts spoken audio", page="option.interruptSpokenAudioAndMixWithOthers")
        return None

    def _ducks(self, new: _Session, other: _Session) -> Reason:
        text = (f"iOS: a {new.config.category} session with duckOthers ducks the other sessions from its activation "
                f"to its deactivation (to {self.policy.duck_gain:.2g}: Apple gives no level; audiolab's setting)")
        data = self._data("duckOthers", new.config, other.config, authoritative=False)
        return self._reason(text, data, self.policy.duck_gain, "duckOthers", page="option.duckOthers")

    def _refused(self, config: IOSConfig, call: _Session) -> Reason:
        record = config.category in ("record", "playAndRecord")
        why = ("a record or playAndRecord session cannot be activated while another app hosts a call "
               "(AVAudioSessionErrorInsufficientPriority)") if record else (
            "a call has higher priority and neither session mixes")
        text = f"iOS: setActive(true) of a {config.category}{_opts(config)} session fails: {why}"
        data = {**self._data("setActive", config, call.config), "action": "DENY"}
        return self._reason(text, data, 0.0, "activation fails",
                            page="setActive")

    def _data(self, rule: str, config: IOSConfig, other: IOSConfig, authoritative: bool = True) -> dict[str, RuleValue]:
        return {"rule": rule, "category": config.category, "options": tuple(sorted(config.options)),
                "mode": config.mode, "other_category": other.category, "other_options": tuple(sorted(other.options)),
                "other_mode": other.mode, "authoritative": authoritative}

    def _reason(self, text: str, data: dict[str, RuleValue], gain: float | None, label: str, *, page: str) -> Reason:
        return reason(self.policy, text + ".", {**data, "page": self.policy.pages.get(page, page)}, gain, label)

    def removed(self, req: FocusRequest, now: float) -> list[FocusAction]:
        app = req.app_id
        if any(r.app_id == app for r in self.ledger.streams.values()):
            return []
        session = self._active.pop(app, None)
        self.ledger.drop_owned(("ios-duck", app))
        self.ledger.drop_owned(("ios-silent", app))
        victims = {e.target[0] for e in self.ledger.effects if e.owner == ("ios-interrupt", app)}
        if session is not None and session.config.notify:
            # interruption ended with shouldResume: the interrupted sessions may become active again
            for e in [e for e in self.ledger.effects if e.owner == ("ios-interrupt", app)]:
                other = self.ledger.streams.get(e.target)
                if other is not None and other.app_id not in self._active:
                    self._active[other.app_id] = _Session(other.app_id, self.policy.config(other), other,
                                                          other.role in self.policy.call_roles)
            self.ledger.drop_owned(("ios-interrupt", app))
        elif victims:
            # no ended is guaranteed: without notifyOthersOnDeactivation the interrupted apps are never told
            self.ledger.hand_over(("ios-interrupt", app), ("ios-lost", app))
        return []

    @classmethod
    def why_nothing(cls, policy: FocusPolicy, existing: FocusRequest, incoming: FocusRequest) -> Reason:
        assert isinstance(policy, IOSPolicy)
        mine, theirs = policy.config(existing), policy.config(incoming)
        text = (f"iOS: the {theirs.category} session{_opts(theirs)} mixes with the {mine.category} "
                f"session{_opts(mine)}: neither interrupts the other and no duckOthers is set")
        if not policy.mixes(theirs):
            text = (f"iOS: the nonmixable {theirs.category} session interrupts only nonmixable sessions; the "
                    f"{mine.category} session{_opts(mine)} mixes")
        data: dict[str, RuleValue] = {"rule": "mixes", "category": theirs.category,
                                      "options": tuple(sorted(theirs.options)), "other_category": mine.category,
                                      "other_options": tuple(sorted(mine.options)), "authoritative": True,
                                      "page": policy.pages.get("option.mixWithOthers", "")}
        return reason(policy, text + ".", data, 1.0, "mixes")


def _owner_kind(owner: object) -> object:
    return owner[0] if isinstance(owner, tuple) and owner else None


def _opts(config: IOSConfig) -> str:
    return f" ({', '.join(sorted(config.options))})" if config.options else ""


register(IOSSystem, _build)
