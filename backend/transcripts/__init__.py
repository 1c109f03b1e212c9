"""A ``.list`` transcript under review: the model and the parts it is made of.

``model``     :class:`Transcript`: open tolerantly, edit through undoable splices, save atomically
``listfile``  the official ``path|speaker|LANG|text`` line format, read and written byte for byte
``history``   the edit log that makes every change undoable and a crash replayable
``audio``     clip files: resolving paths, durations, the new files merges and splits write
``flags``     the review flags (empty text, odd language, long clip, …) and their sidecar file

The names a caller needs are re-exported here; the submodules stay importable on their own.
"""

from .audio import ClipAudioError
from .model import SORT_ORDERS, Transcript, TranscriptChangedOnDisk, TranscriptError

__all__ = ["SORT_ORDERS", "ClipAudioError", "Transcript", "TranscriptChangedOnDisk", "TranscriptError"]
