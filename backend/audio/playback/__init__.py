"""Play a clip and stop it, from whichever output this machine (or the person's browser) has.

:class:`PlayerChooser` tries, in order: a *front* player that takes over while it is connected
(the listening bridge's browser tab), sounddevice (PortAudio), simpleaudio, then a command-line
player (paplay, aplay, afplay, ffplay) whose stderr is captured. With no output at all, the first
play gives one notice and every later one stays quiet: a headless GPU box is normal, not an error.
"""

from .base import PlaybackError, Player, PlayResult
from .chooser import PlayerChooser, default_players, register_front, unregister_front
from .quiet import silenced_stderr
from .subprocess_player import SubprocessPlayer, command_players

__all__ = ["PlayResult", "Player", "PlaybackError", "PlayerChooser", "SubprocessPlayer",
           "command_players", "default_players", "register_front", "silenced_stderr",
           "unregister_front"]
