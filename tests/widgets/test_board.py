"""The dashboard's board: the names it remembers for gone sessions stay bounded."""

from __future__ import annotations

from audiolab.events import Ducked, InterruptEvent, SessionCreated, SessionRemoved, Unducked
from audiolab.model import Flow, ForceType, InterruptHint, Session, SessionKey, SessionState
from audiolab.reason import Reason
from audiolab.widgets._board import GONE_LABELS_KEPT, Board


def session(i: int) -> Session:
    key = SessionKey(guid=f"{{00000000-0000-0000-0000-{i:012d}}}", cross_process=False, pid=1000 + i, device_id="speakers")
    return Session(id=f"s{i}", key=key, flow=Flow.RENDER, state=SessionState.ACTIVE, app=f"App {i}")


def test_labels_of_gone_sessions_are_bounded_and_the_newest_still_name_causes() -> None:
    board = Board([session(0)])
    churn = GONE_LABELS_KEPT * 4
    for i in range(1, churn + 1):
        board.apply(SessionCreated(timestamp=float(i), session_id=f"s{i}", session=session(i)))
        board.apply(SessionRemoved(timestamp=float(i), session_id=f"s{i}"))
    assert len(board._labels) == 1 + GONE_LABELS_KEPT  # the live row plus the newest gone ones
    board.apply(Ducked(timestamp=9e9, session_id="s0", gain=0.2, cause_session_id=f"s{churn}"))
    assert f"by App {churn}" in board.focus("s0")[0]  # a just-gone cause is still named
    assert board.label("s1") == "s1"  # a long-gone one falls back to its id
    assert board.label("s0") == "App 0"


def test_a_row_gives_the_rule_behind_each_focus_state_and_drops_it_when_released() -> None:
    board = Board([session(0), session(1)])
    duck = Reason(policy="harmonyos", kind="harmonyos", text="NAVIGATION over MUSIC: the table ducks the music.")
    pause = Reason(policy="harmonyos", kind="harmonyos", text="VOICE_COMMUNICATION over MUSIC: PAUSE.")
    board.apply(Ducked(timestamp=1.0, session_id="s0", gain=0.2, cause_session_id="s1", why=duck))
    assert board.row_dict("s0")["why"] == duck.text
    board.apply(InterruptEvent(timestamp=2.0, session_id="s0", force_type=ForceType.FORCE, hint=InterruptHint.PAUSE,
                               cause_session_id="s1", why=pause))
    assert board.row_dict("s0")["why"] == f"{duck.text} {pause.text}"
    board.apply(Unducked(timestamp=3.0, session_id="s0", cause_session_id="s1", why=duck.release()))
    assert board.row_dict("s0")["why"] == pause.text
    board.apply(InterruptEvent(timestamp=4.0, session_id="s0", force_type=ForceType.SHARE, hint=InterruptHint.RESUME,
                               cause_session_id="s1", why=pause.release()))
    assert board.row_dict("s0")["why"] == "" and board.row_dict("s0")["focus"] == ""
