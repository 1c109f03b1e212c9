"""Command-line players (paplay, aplay, afplay, ffplay, or one the person names).

The player runs in its own process group with stdin closed and stdout/stderr going to a temp
file, so nothing it says reaches the terminal; when it fails, the first line of what it said
becomes the reason shown. Players that cannot seek get a trimmed temporary wav when playback
starts inside the clip (split at a position, resume).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Sequence

from .base import ClipUnreadable, PlaybackError
from .clock import PlayClock

# name → (argv template, probe argv that must succeed for the player to be usable or None)
KNOWN_COMMANDS: dict[str, tuple[list[str], list[str] | None]] = {
    "paplay": (["paplay", "{path}"], ["pactl", "info"]),
    "aplay": (["aplay", "-q", "{path}"], ["aplay", "-l"]),
    "afplay": (["afplay", "{path}"], None),
    "ffplay": (["ffplay", "-nodisp", "-autoexit", "-loglevel", "error", "-ss", "{start}", "{path}"],
               None),
}


class SubprocessPlayer:
    """Plays by running ``argv`` with ``{path}`` (and optionally ``{start}``) filled in."""

    def __init__(self, argv: Sequence[str], name: str | None = None,
                 probe: Sequence[str] | None = None, startup_check_s: float = 0.05) -> None:
        self.argv = list(argv)
        self.name = name or Path(self.argv[0]).name
        self.probe = list(probe) if probe else None
        self.startup_check_s = startup_check_s
        self._why: str | None | bool = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._trimmed: Path | None = None
        self._clock = PlayClock()

    @classmethod
    def from_command_line(cls, command: str) -> "SubprocessPlayer":
        """A player from a command line such as ``mpv --no-video {path}``."""
        argv = shlex.split(command)
        if not argv:
            raise PlaybackError("the player command is empty", "set it to e.g. 'mpv --no-video {path}'")
        if not any("{path}" in a for a in argv):
            argv.append("{path}")
        return cls(argv)

    # --- availability -------------------------------------------------------------------
    def unavailable(self) -> str | None:
        if self._why is not False:
            return self._why  # type: ignore[return-value]
        if shutil.which(self.argv[0]) is None:
            self._why = f"{self.name}: not installed"
        elif self.probe and shutil.which(self.probe[0]) is not None:
            try:
                r = subprocess.run(self.probe, stdin=subprocess.DEVNULL, capture_output=True,
                                   timeout=3)
                out = (r.stdout + r.stderr).decode("utf-8", "replace")
                if r.returncode != 0 or (self.probe[-1] == "-l" and "card" not in out):
                    self._why = f"{self.name}: no sound output ({_first_line(out) or 'probe failed'})"
                else:
                    self._why = None
            except (OSError, subprocess.TimeoutExpired) as e:
                self._why = f"{self.name}: {e}"
        else:
            self._why = None
        return self._why  # type: ignore[return-value]

    # --- playing ------------------------------------------------------------------------
    def play(self, path: Path, start: float = 0.0, info: dict[str, Any] | None = None) -> None:
        self.stop()
        seeks = any("{start}" in a for a in self.argv)
        target = Path(path)
        if start > 0 and not seeks:
            target = self._trim(target, start)
        argv = [a.replace("{path}", str(target)).replace("{start}", f"{start:.3f}") for a in self.argv]
        self._log = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                          stderr=self._log, start_new_session=True)
        except OSError as e:
            self._why = f"{self.name}: {e.strerror or e}"
            raise PlaybackError(self._why, "install a player or set one in config.toml") from None
        length = info.get("duration") if info else None
        self._clock.started(start, (length - start) if isinstance(length, (int, float)) else None)
        if self.startup_check_s > 0:
            try:
                rc = self._proc.wait(timeout=self.startup_check_s)
            except subprocess.TimeoutExpired:
                return
            if rc != 0:
                reason = self._said() or f"exit status {rc}"
                self._why = f"{self.name}: {reason}"
                self._proc = None
                self._clock.stopped()
                raise PlaybackError(self._why, "use another player")

    def failed(self) -> str | None:
        """Why the last play ended badly (it exited with an error), else None."""
        if self._proc is None:
            return None
        rc = self._proc.poll()
        if rc is None or rc == 0:
            return None
        return f"{self.name}: {self._said() or f'exit status {rc}'}"

    def _said(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return _first_line(self._log.read().decode("utf-8", "replace"))

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        self._clock.stopped()
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
        if self._trimmed is not None:
            self._trimmed.unlink(missing_ok=True)
            self._trimmed = None

    def position(self) -> float | None:
        if self._proc is None or self._proc.poll() is not None:
            self._clock.stopped()
            return None
        return self._clock.position()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _trim(self, path: Path, start: float) -> Path:
        import soundfile as sf

        try:
            with sf.SoundFile(str(path)) as f:
                f.seek(min(int(start * f.samplerate), f.frames))
                data, sr = f.read(dtype="int16", always_2d=True), f.samplerate
        except Exception as e:
            raise ClipUnreadable(f"cannot read {path.name}: {e}", "check the audio file") from None
        fd, tmp = tempfile.mkstemp(prefix="gsv-play-", suffix=".wav")
        os.close(fd)
        sf.write(tmp, data, sr, subtype="PCM_16")
        self._trimmed = Path(tmp)
        return self._trimmed


def _first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def command_players() -> list[SubprocessPlayer]:
    """The known command-line players, in order of preference."""
    return [SubprocessPlayer(argv, name, probe) for name, (argv, probe) in KNOWN_COMMANDS.items()]
