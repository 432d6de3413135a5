"""Widget test helpers: a comm that records what the kernel would send to the browser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import comm
import pytest
from comm.base_comm import BaseComm


class RecordingComm(BaseComm):
    """A comm that keeps every message instead of publishing it on iopub."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.messages: list[tuple[str, dict[str, Any], list[bytes]]] = []
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                    **keys: Any) -> None:
        self.messages.append((msg_type, data or {}, list(buffers or [])))

    def updates(self, key: str) -> list[dict[str, Any]]:
        """The ``update`` messages that carried trait ``key``."""
        return [data for kind, data, _ in self.messages
                if kind == "comm_msg" and data.get("method") == "update"
                and (key in data.get("state", {}) or [key] in data.get("buffer_paths", []))]

    def customs(self, kind: str) -> list[dict[str, Any]]:
        """The contents of the custom messages (``widget.send(content)``) of this ``kind``."""
        return [data["content"] for k, data, _ in self.messages
                if k == "comm_msg" and data.get("method") == "custom" and data["content"].get("kind") == kind]

    def rows_sent(self, session_id: str) -> list[dict[str, Any]]:
        """Every row sent for one session, in order: in full ``rows`` syncs and in ``rows_patch`` messages."""
        sent = []
        for k, data, _ in self.messages:
            if k != "comm_msg":
                continue
            if data.get("method") == "update" and session_id in data.get("state", {}).get("rows", {}):
                sent.append(data["state"]["rows"][session_id])
            elif data.get("method") == "custom" and data["content"].get("kind") == "rows_patch" \
                    and session_id in data["content"]["rows"]:
                sent.append(data["content"]["rows"][session_id])
        return sent

    def clear(self) -> None:
        self.messages.clear()


@pytest.fixture
def recording_comms(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[RecordingComm]]:
    """Every widget created in the test gets a RecordingComm (listed in creation order)."""
    made: list[RecordingComm] = []

    def create(*args: Any, **kwargs: Any) -> RecordingComm:
        c = RecordingComm(*args, **kwargs)
        made.append(c)
        return c

    monkeypatch.setattr(comm, "create_comm", create)
    yield made


def from_browser(widget: Any, **state: Any) -> None:
    """Deliver a trait update as if the browser had sent it."""
    widget._handle_msg({"content": {"data": {"method": "update", "state": state}}, "buffers": []})


def browser_sends(widget: Any, content: dict[str, Any]) -> None:
    """Deliver a custom message as if the browser had sent it (``model.send(content)``)."""
    widget._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})
