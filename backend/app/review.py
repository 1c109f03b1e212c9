"""A transcript under review, headless: opening, saving, conflicts and changes on disk.

The Transcripts screen draws and takes keys; this class decides. It knows whether what is on
screen is saved, what happens when another program rewrote the file meanwhile (ASR appending
clips, a second editor), and what the person's answer to a conflict does — so those rules are
tested without a terminal. Every edit itself goes through :class:`backend.transcripts.Transcript`
(undoable, logged before it takes effect).

States (``state``): ``saved`` → an edit → ``unsaved`` → :meth:`save` → ``saved``, or
``changed on disk`` (the file changed since we read it: :meth:`resolve` with merge / reload /
overwrite), or ``not saved`` (the write failed; the edit log still holds every edit).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import GsvError

if TYPE_CHECKING:
    from ..transcripts import Transcript  # noqa: F401 - the type screens name through this module

SAVED, UNSAVED, CONFLICT, FAILED = "saved", "unsaved", "changed on disk", "not saved"
CONFLICT_CHOICES = ("merge", "reload", "overwrite")


def open_transcript(path: Path, project_root: Path | None = None) -> "Transcript":
    """Open a .list for review (recovering edits a crash left in its log). GsvError when unusable."""
    from ..transcripts import Transcript

    return Transcript.open(path, project_root=project_root) if project_root else Transcript.open(path)


def split_clip(t: "Transcript", n: int, at_seconds: float, text_at: int | None = None) -> int:
    """Cut clip ``n`` at ``at_seconds``; its text is divided at ``text_at``, a position in the
    text as an editor shows it (leading and trailing spaces stripped), so the person's cursor
    decides which words go with which half. With no position the second half is left empty
    (flagged until someone types what it says). Returns ``n``, the first half's ordinal."""
    if text_at is not None:
        text = t.clip(n).text
        shown = text.strip()
        text_at = len(text) - len(text.lstrip()) + max(0, min(text_at, len(shown)))
    t.split(n, at_seconds, text_at=text_at)
    return n


def flag_help() -> dict[str, str]:
    from ..transcripts.flags import FLAG_HELP

    return dict(FLAG_HELP)


def sort_orders() -> tuple[str, ...]:
    from ..transcripts import SORT_ORDERS

    return tuple(SORT_ORDERS)


@dataclass(frozen=True)
class SaveResult:
    """What one save attempt did: ``state`` is the new state; ``error`` why it failed."""

    state: str
    error: GsvError | None = None

    @property
    def ok(self) -> bool:
        return self.state == SAVED

    @property
    def conflict(self) -> bool:
        return self.state == CONFLICT


class ReviewSession:
    """The open transcript and whether the file on disk holds what the person sees."""

    def __init__(self) -> None:
        self.transcript: Transcript | None = None
        self.state = SAVED

    @property
    def dirty(self) -> bool:
        return self.transcript is not None and self.transcript.dirty

    def adopt(self, t: "Transcript | None") -> None:
        """Show ``t`` from now on (a freshly opened, reloaded or merged transcript)."""
        self.transcript = t
        self.state = UNSAVED if t is not None and t.dirty else SAVED

    def edited(self) -> None:
        """An edit was made: unsaved until the next save."""
        self.state = UNSAVED

    def save(self, force: bool = False) -> SaveResult:
        """Write the transcript (``force``: over a file that changed on disk)."""
        from ..transcripts import TranscriptChangedOnDisk

        t = self.transcript
        if t is None:
            return SaveResult(self.state)
        try:
            t.save(force=force)
        except TranscriptChangedOnDisk:
            self.state = CONFLICT
            return SaveResult(CONFLICT)
        except (GsvError, OSError) as e:
            self.state = FAILED
            return SaveResult(FAILED, e if isinstance(e, GsvError) else GsvError(str(e)))
        self.state = SAVED
        return SaveResult(SAVED)

    def flush(self) -> SaveResult | None:
        """Save now if anything is pending (before opening another file, leaving, quitting)."""
        return self.save() if self.dirty else None

    def follow_disk(self) -> "Transcript | None":
        """Another program rewrote the file: with nothing of ours unsaved, read it again and
        return the new transcript; None when nothing changed (or edits are pending — the next
        save then reports the conflict). GsvError when the new file cannot be read."""
        t = self.transcript
        if t is None or t.dirty:
            return None
        try:
            changed = t.changed_on_disk()
        except OSError:
            return None
        if not changed or not t.path.exists():
            return None
        fresh = t.reload()
        self.adopt(fresh)
        return fresh

    def resolve(self, choice: str | None) -> "Transcript | None":
        """The person's answer to a conflict: ``merge`` their edits into the file on disk (then
        save), ``reload`` the file (dropping their edits, which stay in the undo log), or
        ``overwrite`` it. Returns the transcript to show when it changed. GsvError on failure."""
        t = self.transcript
        if t is None or choice not in CONFLICT_CHOICES:
            return None
        if choice == "overwrite":
            result = self.save(force=True)
            if result.error is not None:
                raise result.error
            return None
        fresh = t.merge_disk_changes() if choice == "merge" else t.reload()
        self.adopt(fresh)
        if choice == "merge":
            result = self.save()
            if result.error is not None:
                raise result.error
        return fresh

    def close(self) -> SaveResult | None:
        """Save what is pending and forget the transcript."""
        result = self.flush()
        self.transcript = None
        self.state = SAVED
        return result
