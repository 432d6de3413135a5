"""A stream asking the focus engine for focus: :class:`FocusRequest`, and :class:`FocusAttributes`, how it
asks in the vocabulary of one system (an Android gain type and flags, an iOS category and options)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .._by_fields import by_fields
from ..model import ConcurrencyMode, Flow, Role

StreamKey = tuple[str, str]

ANDROID_GAINS = ("gain", "gain_transient", "gain_transient_exclusive", "gain_transient_may_duck", "none")
"""AudioManager.AUDIOFOCUS_GAIN*; "none" plays without requesting focus."""
ANDROID_FLAGS = ("delay_ok", "pauses_on_duckable_loss", "lock", "force_duck")
"""AUDIOFOCUS_FLAG_DELAY_OK, AUDIOFOCUS_FLAG_PAUSES_ON_DUCKABLE_LOSS, AUDIOFOCUS_FLAG_LOCK, and
AudioFocusRequest.Builder.setForceDucking (accessibility)."""
IOS_CATEGORIES = ("ambient", "soloAmbient", "playback", "record", "playAndRecord", "multiRoute")
IOS_OPTIONS = ("mixWithOthers", "duckOthers", "interruptSpokenAudioAndMixWithOthers")
IOS_MODES = ("default", "spokenAudio", "voiceChat", "moviePlayback")


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class FocusAttributes:
    """How a stream asks for focus beyond its role, in one system's own terms. Every field is optional: a
    field left None takes the default the system's data file gives the stream's role.

    Android: ``gain`` (one of :data:`ANDROID_GAINS`), ``flags`` (of :data:`ANDROID_FLAGS`) and
    ``target_sdk``. iOS: ``category`` (:data:`IOS_CATEGORIES`), ``options`` (:data:`IOS_OPTIONS`), ``mode``
    (:data:`IOS_MODES`) and ``notify_others_on_deactivation`` (setActive(false, options:)). Linux: ``media_role``,
    the ``media.role`` property as the stream sets it (WirePlumber 0.4's endpoints policy reads it; case matters).
    Unknown names raise ValueError."""

    gain: str | None = None
    flags: frozenset[str] = field(default_factory=frozenset)
    target_sdk: int | None = None
    category: str | None = None
    options: frozenset[str] | None = None
    mode: str | None = None
    notify_others_on_deactivation: bool | None = None
    media_role: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "flags", frozenset(self.flags))
        if self.options is not None:
            object.__setattr__(self, "options", frozenset(self.options))
        _one_of("gain", self.gain, ANDROID_GAINS)
        _one_of("category", self.category, IOS_CATEGORIES)
        _one_of("mode", self.mode, IOS_MODES)
        for flag in self.flags:
            _one_of("flag", flag, ANDROID_FLAGS)
        for option in self.options or ():
            _one_of("option", option, IOS_OPTIONS)
        sdk = self.target_sdk
        if sdk is not None and (isinstance(sdk, bool) or not isinstance(sdk, int) or not 1 <= sdk <= 100):
            raise ValueError(f"target_sdk must be an Android API level (1..100), got {sdk!r}")
        if self.media_role is not None and (not isinstance(self.media_role, str) or not self.media_role.strip()):
            raise ValueError(f"media_role must be a non-empty string, got {self.media_role!r}")
        notify = self.notify_others_on_deactivation
        if notify is not None and not isinstance(notify, bool):
            raise ValueError("notify_others_on_deactivation must be true or false")


def _one_of(what: str, value: object, known: tuple[str, ...]) -> None:
    if value is not None and value not in known:
        raise ValueError(f"unknown {what} {value!r}; known: {', '.join(known)}")


NO_ATTRIBUTES = FocusAttributes()


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class FocusRequest:
    """A stream asking for focus. ``app`` groups streams the HarmonyOS way (one AudioSession per app;
    defaults to ``session_id``); streams of one app share focus unless ``independent``. ``concurrency``
    overrides the app session's strategy for this stream; ``usage`` names a HarmonyOS StreamUsage or
    SourceType explicitly (e.g. ``"STREAM_USAGE_VOICE_MODEM_COMMUNICATION"``) instead of ``role``;
    ``attributes`` say how it asks in Android's or iOS's terms."""

    session_id: str
    stream_id: str
    role: Role = Role.UNKNOWN
    device_id: str = ""
    flow: Flow = Flow.RENDER
    on_communications_device: bool = False
    ducking_opt_out: bool = False
    app: str | None = None
    concurrency: ConcurrencyMode | None = None
    usage: str | None = None
    independent: bool = False
    attributes: FocusAttributes = NO_ATTRIBUTES

    @property
    def key(self) -> StreamKey:
        return (self.session_id, self.stream_id)

    @property
    def app_id(self) -> str:
        return self.app if self.app is not None else self.session_id
