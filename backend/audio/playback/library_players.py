"""In-process players: sounddevice (PortAudio) and simpleaudio. Lowest latency when present.

Both import C libraries that may be missing (no PortAudio on a server) or may print ALSA noise
on import and device probing; both are imported lazily with fd 2 silenced and report why they
cannot play instead of raising.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import ClipUnreadable, PlaybackError
from .clock import PlayClock
from .quiet import silenced_stderr


def _read(path: Path, start: float) -> tuple[Any, int]:
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as f:
            sr = f.samplerate
            f.seek(min(int(start * sr), f.frames))
            data = f.read(dtype="int16", always_2d=True)
    except Exception as e:
        raise ClipUnreadable(f"cannot read {path.name}: {e}", "check the audio file") from None
    return data, sr


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


class SoundDevicePlayer:
    name = "sounddevice"

    def __init__(self) -> None:
        self._why: str | None | bool = False  # False: not probed yet
        self._sd: Any = None
        self._clock = PlayClock()

    def unavailable(self) -> str | None:
        if self._why is not False:
            return self._why  # type: ignore[return-value]
        with silenced_stderr() as said:
            try:
                import sounddevice as sd  # type: ignore[import-not-found]

                sd.query_devices(kind="output")
                self._sd, self._why = sd, None
            except ImportError:
                self._why = "sounddevice is not installed"
            except OSError as e:  # PortAudio library missing
                self._why = f"sounddevice: {e}"
            except Exception as e:  # PortAudioError: no output device
                self._why = f"sounddevice: no output device ({_first_line(str(e)) or type(e).__name__})"
        if self._why and said:
            self._why = f"{self._why}; {_first_line(said[0])}"
        return self._why  # type: ignore[return-value]

    def play(self, path: Path, start: float = 0.0, info: dict[str, Any] | None = None) -> None:
        if self.unavailable():
            raise PlaybackError(str(self._why), "use another player")
        data, sr = _read(path, start)
        with silenced_stderr():
            self._sd.stop()
            self._sd.play(data, sr)
        self._clock.started(start, len(data) / sr)

    def stop(self) -> None:
        if self._sd is not None:
            with silenced_stderr():
                self._sd.stop()
        self._clock.stopped()

    def position(self) -> float | None:
        return self._clock.position()


class SimpleAudioPlayer:
    name = "simpleaudio"

    def __init__(self) -> None:
        self._why: str | None | bool = False
        self._sa: Any = None
        self._obj: Any = None
        self._clock = PlayClock()

    def unavailable(self) -> str | None:
        if self._why is not False:
            return self._why  # type: ignore[return-value]
        with silenced_stderr():
            try:
                import simpleaudio as sa  # type: ignore[import-not-found]

                self._sa, self._why = sa, None
            except ImportError:
                self._why = "simpleaudio is not installed"
            except Exception as e:
                self._why = f"simpleaudio: {e}"
        return self._why  # type: ignore[return-value]

    def play(self, path: Path, start: float = 0.0, info: dict[str, Any] | None = None) -> None:
        if self.unavailable():
            raise PlaybackError(str(self._why), "use another player")
        data, sr = _read(path, start)
        self.stop()
        with silenced_stderr() as said:
            try:
                self._obj = self._sa.play_buffer(data.tobytes(), data.shape[1], 2, sr)
            except Exception as e:
                self._why = f"simpleaudio: {_first_line(str(e)) or (said and said[0]) or 'no device'}"
                raise PlaybackError(self._why, "use another player") from None
        self._clock.started(start, len(data) / sr)

    def stop(self) -> None:
        if self._obj is not None:
            with silenced_stderr():
                self._obj.stop()
            self._obj = None
        self._clock.stopped()

    def position(self) -> float | None:
        if self._obj is not None and not self._obj.is_playing():
            self._clock.stopped()
        return self._clock.position()
