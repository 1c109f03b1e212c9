"""Playback on a headless machine: quiet when there is no output, a real subprocess player
(a script written here that records its argv and sleeps) gets the right file and is stopped,
and the listening bridge takes over while a browser tab is connected."""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
from transcript_helpers import make_wav

from backend.audio.playback import PlayerChooser, SubprocessPlayer, default_players, silenced_stderr
from backend.audio.playback.bridge import bridge_provider

RECORDER = """
import json, os, sys, time
with open(os.environ["REC_FILE"], "a") as f:
    f.write(json.dumps({"argv": sys.argv[1:], "pid": os.getpid()}) + "\\n")
time.sleep(60)
"""

BROKEN = """
import sys
sys.stderr.write("ALSA lib pcm.c:2664:(snd_pcm_open_noupdate) Unknown PCM default\\n")
sys.exit(1)
"""


@pytest.fixture
def scripts(tmp_path, monkeypatch):
    rec = tmp_path / "rec.jsonl"
    monkeypatch.setenv("REC_FILE", str(rec))
    (tmp_path / "recorder.py").write_text(RECORDER)
    (tmp_path / "broken.py").write_text(BROKEN)
    return tmp_path, rec


def _records(rec: Path, n: int) -> list[dict]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if rec.exists():
            lines = rec.read_text().splitlines()
            if len(lines) >= n:
                return [json.loads(x) for x in lines]
        time.sleep(0.02)
    raise AssertionError("the player never started")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purpose
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_no_output_gives_one_quiet_notice(tmp_path, monkeypatch, capfd):
    monkeypatch.delenv("GSV_PLAYER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no command-line players either
    clip = tmp_path / "a.wav"
    make_wav(clip, 0.5)
    chooser = PlayerChooser()
    if chooser.active_name() is not None:
        pytest.skip("this machine has an audio output")
    first = chooser.play(clip)
    assert not first.ok and first.notice.startswith("No audio output on this machine")
    assert "gsv listen" in first.notice and "\n" not in first.notice
    for _ in range(5):  # every later key press: nothing to tell, nothing raised
        again = chooser.play(clip)
        assert (again.ok, again.notice) == (False, None)
    chooser.stop()
    assert chooser.position() is None
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # nothing printed over the terminal


def test_silenced_stderr_captures_what_c_libraries_write(capfd):
    with silenced_stderr() as said:
        os.write(2, b"ALSA lib confmisc.c:767:(parse_card) cannot find card '0'\n")
    assert "cannot find card" in said[0]
    assert capfd.readouterr().err == ""


def test_subprocess_player_plays_the_right_file_and_stops(scripts, tmp_path):
    _, rec = scripts
    clip = tmp_path / "clip 一.wav"
    make_wav(clip, 2.0)
    player = SubprocessPlayer([sys.executable, str(tmp_path / "recorder.py"), "{path}"], name="dummy")
    chooser = PlayerChooser([player])
    res = chooser.play(clip, info={"duration": 2.0})
    assert res.ok and res.player == "dummy" and res.notice is None
    [r] = _records(rec, 1)
    assert r["argv"] == [str(clip)]
    assert chooser.is_playing() and 0 <= chooser.position() < 2.0
    chooser.stop()
    assert not _alive(r["pid"]) and chooser.position() is None


def test_playing_from_a_time_trims_for_players_that_cannot_seek(scripts, tmp_path):
    _, rec = scripts
    clip = tmp_path / "a.wav"
    make_wav(clip, 2.0)
    player = SubprocessPlayer([sys.executable, str(tmp_path / "recorder.py"), "{path}"])
    player.play(clip, start=1.5)
    [r] = _records(rec, 1)
    trimmed = Path(r["argv"][0])
    assert trimmed != clip and sf.info(str(trimmed)).frames == 16000
    player.play(clip)  # a new play stops the old one and removes its temp file
    r2 = _records(rec, 2)[1]
    assert not _alive(r["pid"]) and not trimmed.exists() and r2["argv"] == [str(clip)]
    player.stop()
    assert not _alive(r2["pid"])


def test_seeking_players_get_the_start_time(scripts, tmp_path):
    _, rec = scripts
    clip = tmp_path / "a.wav"
    make_wav(clip, 2.0)
    player = SubprocessPlayer([sys.executable, str(tmp_path / "recorder.py"), "-ss", "{start}", "{path}"])
    player.play(clip, start=0.75)
    [r] = _records(rec, 1)
    assert r["argv"] == ["-ss", "0.750", str(clip)]
    player.stop()


def test_a_failing_player_is_dropped_quietly_for_the_next(scripts, tmp_path, capfd):
    _, rec = scripts
    clip = tmp_path / "a.wav"
    make_wav(clip, 1.0)
    broken = SubprocessPlayer([sys.executable, str(tmp_path / "broken.py"), "{path}"], name="alsa-ish",
                              startup_check_s=5.0)
    good = SubprocessPlayer([sys.executable, str(tmp_path / "recorder.py"), "{path}"], name="good")
    chooser = PlayerChooser([broken, good])
    res = chooser.play(clip)
    assert res.ok and res.player == "good"
    assert "Unknown PCM default" in chooser.reasons[0]
    assert broken.unavailable() and "Unknown PCM" in broken.unavailable()
    chooser.stop()
    assert capfd.readouterr().err == ""


def test_gsv_player_names_a_custom_command(scripts, tmp_path, monkeypatch):
    _, rec = scripts
    monkeypatch.setenv("GSV_PLAYER", f"{sys.executable} {tmp_path / 'recorder.py'}")
    clip = tmp_path / "a.wav"
    make_wav(clip, 1.0)
    chooser = PlayerChooser(default_players())
    assert chooser.play(clip).ok
    assert _records(rec, 1)[0]["argv"] == [str(clip)]
    chooser.stop()


def test_missing_clip_is_reported_not_played(scripts, tmp_path):
    player = SubprocessPlayer([sys.executable, str(tmp_path / "recorder.py"), "{path}"])
    res = PlayerChooser([player]).play(tmp_path / "gone.wav")
    assert not res.ok and "missing" in res.notice


def test_the_listening_bridge_takes_over_while_a_tab_listens(scripts, tmp_path):
    from backend.listen import ListenBridge

    _, rec = scripts
    clip = tmp_path / "clips" / "a.wav"
    make_wav(clip, 1.0)
    local = SubprocessPlayer([sys.executable, str(tmp_path / "recorder.py"), "{path}"], name="local")
    chooser = PlayerChooser([local])
    with ListenBridge([tmp_path], port=0) as bridge:
        chooser.add_front(bridge_provider(bridge))
        assert chooser.play(clip).player == "local"  # no tab yet
        conn = http.client.HTTPConnection("127.0.0.1", bridge.port, timeout=5)
        conn.request("GET", f"/events?t={bridge.token}")
        resp = conn.getresponse()
        deadline = time.monotonic() + 5
        while bridge.listeners == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        res = chooser.play(clip, info={"text": "你好", "duration": 1.0})
        assert res.ok and res.player == "browser"
        events = []
        while len(events) < 2:
            line = resp.fp.readline().decode()
            if line.startswith("event: "):
                events.append(line[7:].strip())
        assert events == ["hello", "play"]
        chooser.stop()
        conn.close()


def test_a_registered_front_serves_every_chooser(scripts, tmp_path):
    from backend.audio.playback import register_front, unregister_front

    _, rec = scripts
    clip = tmp_path / "a.wav"
    make_wav(clip, 1.0)
    front = SubprocessPlayer([sys.executable, str(tmp_path / "recorder.py"), "front", "{path}"], name="front")
    provider = lambda: front  # noqa: E731
    register_front(provider)
    try:
        chooser = PlayerChooser([])
        assert chooser.play(clip).player == "front"
        assert _records(rec, 1)[0]["argv"] == ["front", str(clip)]
        chooser.stop()
    finally:
        unregister_front(provider)
    assert not PlayerChooser([]).play(clip).ok
