"""Sessions are named with the best name the server has."""

from __future__ import annotations

import asyncio
import math
import subprocess
import wave

import pytest

from tests.servers import AudioServer, require_binary

from .conftest import Running

pytestmark = [pytest.mark.anyio]


def _wav(server: AudioServer) -> str:
    path = server.root / "tone.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(48000)
        out.writeframes(b"".join(int(8000 * math.sin(i / 10)).to_bytes(2, "little", signed=True) for i in range(480000)))
    return str(path)


@pytest.mark.pipewire
@pytest.mark.parametrize("server", ["pipewire"], indirect=True)
async def test_native_pipewire_client_is_named_after_its_stream_not_its_binary(server: AudioServer, running: Running) -> None:
    # pw-play's client is "pw-cat" (its binary); its stream carries application.name "pw-play" (what wpctl shows).
    player = await asyncio.create_subprocess_exec(require_binary("pw-play"), _wav(server), env=server.env,
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        (session,) = await running.wait_sessions("pw-play")
        assert session.app == "pw-play"
        assert not running.sessions_of("pw-cat")
    finally:
        player.kill()
        await player.wait()
