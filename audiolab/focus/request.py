"""A stream asking the focus engine for focus: :class:`FocusRequest`."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import ConcurrencyMode, Flow, Role

StreamKey = tuple[str, str]


@dataclass(frozen=True)
class FocusRequest:
    """A stream asking for focus. ``app`` groups streams the HarmonyOS way (one AudioSession per app;
    defaults to ``session_id``); streams of one app share focus unless ``independent``. ``concurrency``
    overrides the app session's strategy for this stream; ``usage`` names a HarmonyOS StreamUsage or
    SourceType explicitly (e.g. ``"STREAM_USAGE_VOICE_MODEM_COMMUNICATION"``) instead of ``role``."""

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

    @property
    def key(self) -> StreamKey:
        return (self.session_id, self.stream_id)

    @property
    def app_id(self) -> str:
        return self.app if self.app is not None else self.session_id
