"""The ``.list`` transcript model: open tolerantly, edit safely, save atomically, undo anything.

This is what the review screen and the CLI use. A :class:`Transcript` holds every line of the
file (clips and, verbatim, the lines it could not read), edits them through undoable splices
(:mod:`backend.transcripts.history`), never destroys audio (merges and splits write new files,
deleted clips go to the trash) and saves with a backup, refusing to overwrite a file that
changed on disk behind its back.

Clips are addressed by their ordinal ``n`` among the clip lines (blank and malformed lines are
not counted), which is what a table of clips shows.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ..errors import GsvError
from ..fsutil import atomic_write_bytes
from .audio import (
    ClipAudioError,
    DurationCache,
    PathResolver,
    merge_audio,
    move_idempotent,
    path_basename,
    sibling_path_string,
    split_audio,
    unique_path,
)
from .flags import (
    ALL_FLAGS,
    CHARS,
    EMPTY,
    LANGUAGE,
    LONG,
    LOW_CONFIDENCE,
    MISSING,
    SHORT,
    AsrInfo,
    FlagSettings,
    default_flag_settings,
    load_sidecar,
    unreadable_chars,
)
from .history import HistoryLog, LogState, Splice, SpliceMismatch, apply_splice, replay
from .listfile import (
    LANGUAGE_CYCLE,
    Clip,
    LineProblem,
    ListStyle,
    Row,
    canonical_language,
    clean_text,
    parse_bytes,
    render,
)
from .review_marks import ReviewMarks
from .trash import Trash, TrashedClip

__all__ = ["Transcript", "TranscriptError", "TranscriptChangedOnDisk", "ClipAudioError", "Clip",
           "LineProblem", "ALL_FLAGS", "SORT_ORDERS"]

SORT_ORDERS = ("file", "confidence", "duration")


class TranscriptError(GsvError):
    """The transcript cannot be opened or edited as asked."""


class TranscriptChangedOnDisk(TranscriptError):
    """Something else wrote the ``.list`` since we read it; saving would overwrite that."""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class DiskSignature:
    mtime_ns: int
    size: int
    sha: str


def find_project_root(list_path: Path) -> Path | None:
    for d in list(list_path.parents)[:3]:
        if (d / "project.toml").is_file():
            return d
    return None


class Transcript:
    """One open ``.list`` file with its history, trash, review marks and ASR sidecar.

    Why one class of this size: every edit, its undo and redo, the audio moves they make and the
    save keep one invariant together — the rows in memory are the file on disk plus the splices
    logged in the history — and that code is easiest to check in one place. Everything outside
    it lives elsewhere: the line format (:mod:`.listfile`), the log (:mod:`.history`), clip
    audio (:mod:`.audio`), flags (:mod:`.flags`), review marks (:class:`.review_marks.ReviewMarks`)
    and the trash (:class:`.trash.Trash`); the project's settings are the application layer's.
    """

    def __init__(self, path: Path, data: bytes, flag_settings: FlagSettings | None = None,
                 project_root: Path | None = None) -> None:
        self.path = path
        parsed = parse_bytes(data)
        self.rows: list[Row] = parsed.rows
        self.style: ListStyle = parsed.style
        self.problems: list[LineProblem] = parsed.problems
        self.notices: list[str] = []
        self.flag_settings = flag_settings or default_flag_settings()
        self.project_root = project_root if project_root is not None else find_project_root(path)
        self.trash = Trash((self.project_root / "trash") if self.project_root else path.parent / "trash")
        extra = [self.project_root / "clips"] if self.project_root else []
        self.resolver = PathResolver(path, extra)
        self.durations = DurationCache()
        self.asr, warn = load_sidecar(path)
        if warn:
            self.notices.append(warn)
        st = path.stat()
        self._disk = DiskSignature(st.st_mtime_ns, st.st_size, _sha(data))
        self._clip_rows: list[int] | None = None
        self.version = 0  # bumped on every change; the screen redraws when it moves
        self._saved_version = 0
        self.history = HistoryLog(path.with_name(path.name + ".history.jsonl"))
        self.state = LogState()
        self.review = ReviewMarks(path, self.history.append)
        self._load_history()

    # --- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str], flag_settings: FlagSettings | None = None,
             project_root: Path | None = None) -> "Transcript":
        p = Path(path).expanduser().absolute()
        if p.is_dir():
            raise TranscriptError(f"{p} is a folder, not a .list file",
                                  "give the path of the .list file written by the ASR step")
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise TranscriptError(f"no transcript at {p}",
                                  "run the ASR step first, or check the path") from None
        except OSError as e:
            raise TranscriptError(f"cannot read {p}: {e.strerror}", "check the file's permissions") from None
        return cls(p, data, flag_settings, project_root)

    def _load_history(self) -> None:
        records = self.history.read()
        self.review.recover(records)
        if not records:
            self.history.start(self._disk.sha)
            if self.history.broken:
                self.notices.append(self.history.broken)
            return
        found = replay(records, self._disk.sha)
        if found is None:
            kept = self.history.retire()
            self.history.start(self._disk.sha)
            self.notices.append(f"{self.path.name} was changed outside gsv-tui; earlier undo history "
                                f"kept as {kept.name if kept else '-'}")
            return
        self.state, pending = found
        try:
            for kind, splice in pending:
                if kind == "op" and splice is not None:
                    self._apply(splice)
                    self.state.done.append(splice)
                    self.state.redo.clear()
                elif kind == "undo" and self.state.done:
                    s = self.state.done.pop()
                    self._apply(s.inverse())
                    self.state.redo.append(s)
                elif kind == "redo" and self.state.redo:
                    s = self.state.redo.pop()
                    self._apply(s)
                    self.state.done.append(s)
        except SpliceMismatch:
            # The log cannot be trusted: go back to the file as it is on disk.
            self.rows = parse_bytes(self.path.read_bytes()).rows
            self.state = LogState()
            kept = self.history.retire()
            self.history.start(self._disk.sha)
            self.notices.append(f"could not replay the undo history; kept as {kept.name if kept else '-'}")
            return
        if pending:
            self.version += 1
            self.notices.append(f"recovered {len(pending)} unsaved change(s) from the last session")

    # --- clips --------------------------------------------------------------------------
    def clip_rows(self) -> list[int]:
        if self._clip_rows is None:
            self._clip_rows = [i for i, r in enumerate(self.rows) if isinstance(r, Clip)]
        return self._clip_rows

    def __len__(self) -> int:
        return len(self.clip_rows())

    def clip(self, n: int) -> Clip:
        return self.rows[self._row(n)]  # type: ignore[return-value]

    def clips(self) -> Iterable[Clip]:
        return (r for r in self.rows if isinstance(r, Clip))

    def _row(self, n: int) -> int:
        rows = self.clip_rows()
        if not 0 <= n < len(rows):
            raise TranscriptError(f"no clip number {n + 1} (the list has {len(rows)})",
                                  "pick a clip from the list")
        return rows[n]

    def ordinal_of_row(self, row: int) -> int:
        import bisect

        rows = self.clip_rows()
        i = bisect.bisect_left(rows, row)
        return min(i, len(rows) - 1)

    def audio_path(self, n: int) -> Path | None:
        c = self.clip(n)
        return self.resolver.resolve(c.path, c.speaker)

    def duration(self, n: int) -> float | None:
        """Seconds, reading the file header on first use."""
        return self.durations.get(self.audio_path(n))

    def known_duration(self, n: int) -> float | None:
        """Seconds if already read (drawing never waits for the disk)."""
        return self.durations.peek(self.audio_path(n))

    def load_durations(self, progress: Callable[[int, int], object] | None = None,
                       stop: Callable[[], bool] | None = None, yield_every: int = 0) -> None:
        """Read the durations not known yet (for sorting, flags and totals). Run it off the UI
        thread; ``yield_every`` > 0 sleeps a moment every that many files read so a UI thread
        sharing the interpreter stays responsive while ten thousand headers are read."""
        total = len(self)
        read = 0
        for n in range(total):
            if stop is not None and stop():
                return
            try:
                path = self.audio_path(n)
                if path is None or self.durations.known(path):
                    continue
                self.durations.get(path)
            except (TranscriptError, IndexError, AttributeError):  # an edit changed the rows meanwhile
                continue
            read += 1
            if yield_every and read % yield_every == 0:
                time.sleep(0.002)
            if progress is not None and read % 500 == 0:
                progress(n + 1, total)

    def asr_info(self, n: int) -> AsrInfo | None:
        if not self.asr:
            return None
        c = self.clip(n)
        return self.asr.get(c.path) or self.asr.get(path_basename(c.path))

    def flags(self, n: int) -> tuple[str, ...]:
        """The clip's flags; duration flags only once its duration is known."""
        c = self.clip(n)
        s = self.flag_settings
        out: list[str] = []
        path = self.resolver.resolve(c.path, c.speaker)
        if path is None:
            out.append(MISSING)
        if not c.text.strip():
            out.append(EMPTY)
        info = self.asr_info(n)
        if info is not None and info.doubtful(s):
            out.append(LOW_CONFIDENCE)
        d = self.durations.peek(path)
        if d is not None:
            if d < s.min_seconds:
                out.append(SHORT)
            elif d > s.max_seconds:
                out.append(LONG)
        if canonical_language(c.lang) is None:
            out.append(LANGUAGE)
        elif unreadable_chars(c.text, c.lang):
            out.append(CHARS)
        return tuple(out)

    def order(self, kind: str) -> list[int]:
        """Clip ordinals in a sort order: file, worst ASR confidence first, or longest first."""
        n = len(self)
        if kind == "file":
            return list(range(n))
        if kind == "confidence":
            def key(i: int) -> tuple[int, float]:
                info = self.asr_info(i)
                if info is None or info.avg_logprob is None:
                    return (1, 0.0)
                return (0, info.avg_logprob)
            return sorted(range(n), key=key)
        if kind == "duration":
            return sorted(range(n), key=lambda i: -(self.known_duration(i) or 0.0))
        raise TranscriptError(f"unknown sort order {kind!r}", f"use one of {', '.join(SORT_ORDERS)}")

    def search(self, query: str, order: list[int], start: int, backward: bool = False) -> int | None:
        """Position in ``order`` of the next clip (after ``start``) whose text or file name holds
        ``query`` (case-insensitive), wrapping around."""
        q = query.casefold()
        if not q or not order:
            return None
        m = len(order)
        for k in range(1, m + 1):
            pos = (start - k if backward else start + k) % m
            c = self.clip(order[pos])
            if q in c.text.casefold() or q in path_basename(c.path).casefold():
                return pos
        return None

    def next_flagged(self, order: list[int], start: int, backward: bool = False) -> int | None:
        m = len(order)
        for k in range(1, m + 1):
            pos = (start - k if backward else start + k) % m
            if self.flags(order[pos]):
                return pos
        return None

    # --- review marks -------------------------------------------------------------------
    @property
    def reviewed(self) -> set[str]:
        return self.review.keys

    def mark_reviewed(self, n: int) -> None:
        self.review.add(self.clip(n).path)

    def is_reviewed(self, n: int) -> bool:
        return self.clip(n).path in self.review

    def stats(self) -> dict[str, float | int]:
        """Counts for the status line: clips, reviewed, flagged, durations known and their sum."""
        total = len(self)
        reviewed = sum(1 for c in self.clips() if c.path in self.reviewed)
        flagged = 0
        seconds = 0.0
        known = 0
        for n in range(total):
            if self.flags(n):
                flagged += 1
            d = self.known_duration(n)
            if d is not None:
                known += 1
                seconds += d
        return {"clips": total, "reviewed": reviewed, "flagged": flagged,
                "seconds": seconds, "durations_known": known, "malformed": len(self.problems)}

    # --- edits --------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return self.version != self._saved_version or self.review.dirty

    def can_undo(self) -> bool:
        return bool(self.state.done)

    def can_redo(self) -> bool:
        return bool(self.state.redo)

    def _apply(self, s: Splice) -> None:
        for src, dst in s.do_moves:
            move_idempotent(Path(src), Path(dst))
        apply_splice(self.rows, s)
        for r in s.old + s.new:
            if isinstance(r, Clip):
                self.resolver.forget(r.path)
        self._clip_rows = None
        self.version += 1

    def _do(self, s: Splice) -> None:
        self.history.append({"t": "op", "op": s.to_json()})  # write-ahead: logged before effects
        self._apply(s)
        self.state.done.append(s)
        self.state.redo.clear()

    def undo(self) -> str | None:
        """Undo the last change; returns what was undone, or None if nothing is left."""
        if not self.state.done:
            return None
        s = self.state.done[-1]
        self.history.append({"t": "undo"})
        self._apply(s.inverse())
        self.state.redo.append(self.state.done.pop())
        return s.label

    def redo(self) -> str | None:
        if not self.state.redo:
            return None
        s = self.state.redo[-1]
        self.history.append({"t": "redo"})
        self._apply(s)
        self.state.done.append(self.state.redo.pop())
        return s.label

    def set_text(self, n: int, text: str) -> bool:
        """Change a clip's text (cleaned of line breaks and ``|``). False if nothing changed."""
        r = self._row(n)
        old: Clip = self.rows[r]  # type: ignore[assignment]
        text = clean_text(text)
        if text == clean_text(old.text):
            return False
        self._do(Splice(r, (old,), (old.edited(text=text),), f"edit text of clip {n + 1}"))
        self.review.add(old.path)
        return True

    def set_language(self, n: int, lang: str) -> bool:
        r = self._row(n)
        old: Clip = self.rows[r]  # type: ignore[assignment]
        lang = lang.strip()
        if canonical_language(lang) is None:
            raise TranscriptError(f"unknown language {lang!r}",
                                  f"use one of {', '.join(LANGUAGE_CYCLE)}")
        if lang == old.lang:
            return False
        self._do(Splice(r, (old,), (old.edited(lang=lang),), f"language of clip {n + 1} to {lang}"))
        return True

    def cycle_language(self, n: int) -> str:
        """Next language in ZH → EN → JA → KO → YUE; returns the new code."""
        cur = canonical_language(self.clip(n).lang)
        codes = [canonical_language(c) for c in LANGUAGE_CYCLE]
        nxt = LANGUAGE_CYCLE[(codes.index(cur) + 1) % len(codes)] if cur in codes else LANGUAGE_CYCLE[0]
        self.set_language(n, nxt)
        return nxt

    def delete(self, n: int) -> None:
        """Take the clip out of the list and move its audio to the trash (restorable)."""
        r = self._row(n)
        old: Clip = self.rows[r]  # type: ignore[assignment]
        src = self.resolver.resolve(old.path, old.speaker)
        moves: tuple[tuple[str, str], ...] = ()
        shared = any(c.path == old.path for c in self.clips() if c is not old)
        if src is not None and not shared:  # a file another line still uses stays put
            dst = self.trash.target(src)
            moves = ((str(src), str(dst)),)
            self.trash.record({"list": str(self.path), "row": old.to_json(), "index": r,
                                   "original": str(src), "trash": str(dst), "when": time.time()})
        self._do(Splice(r, (old,), (), f"delete clip {n + 1}", moves,
                        tuple((b, a) for a, b in moves)))

    def _next_clip_row(self, r: int) -> int:
        for j in range(r + 1, len(self.rows)):
            if isinstance(self.rows[j], Clip):
                return j
        raise TranscriptError("the last clip has no next clip to merge with",
                              "merge a clip with the one after it")

    def _require_audio(self, c: Clip) -> Path:
        p = self.resolver.resolve(c.path, c.speaker)
        if p is None:
            raise ClipAudioError(f"audio of {path_basename(c.path)} not found",
                                 "fix the path in the .list or restore the file")
        return p

    def _retire(self, replaced: tuple[Clip, ...], files: tuple[Path, ...]) -> tuple[tuple[str, str], ...]:
        """Moves that take the files of clips a merge/split replaced to the trash.

        Kept in the clips folder they would look like new clips to the next ASR run (and be
        transcribed into the list again); the trash keeps them, and undo brings them back. A
        file another line still uses stays put.
        """
        moves = []
        for clip, src in zip(replaced, files):
            others = (c for c in self.clips() if all(c is not x for x in replaced))
            if not any(c.path == clip.path for c in others):
                # a name of its own: a delete record of the same clip must not claim it
                moves.append((str(src), str(self.trash.target(src, f"{src.stem}~replaced"))))
        return tuple(moves)

    def merge_next(self, n: int, gap_seconds: float = 0.0) -> Clip:
        """Join a clip with the next one into a new wav file; the originals go to the trash."""
        r = self._row(n)
        a: Clip = self.rows[r]  # type: ignore[assignment]
        r2 = self._next_clip_row(r)
        b: Clip = self.rows[r2]  # type: ignore[assignment]
        pa, pb = self._require_audio(a), self._require_audio(b)
        # every name first (bounded: merged names grow), then the one write
        out = unique_path(pa.parent, f"{pa.stem}+{pb.stem}", ".wav")
        parked = self.trash.target(out)
        retired = self._retire((a, b), (pa, pb))
        merge_audio(pa, pb, out, gap_seconds)
        sep = " " if canonical_language(a.lang) in ("en", "ko") and a.text and b.text else ""
        merged = Clip(sibling_path_string(a.path, out.name), a.speaker, a.lang,
                      clean_text(a.text.strip() + sep + b.text.strip()), None, a.ending)
        between = tuple(self.rows[r + 1:r2])
        self._do(Splice(r, tuple(self.rows[r:r2 + 1]), (merged,) + between,
                        f"merge clips {n + 1} and {n + 2}",
                        ((str(parked), str(out)), *retired),
                        ((str(out), str(parked)), *((dst, src) for src, dst in retired))))
        return merged

    def split(self, n: int, at_seconds: float, texts: tuple[str, str] | None = None,
              text_at: int | None = None) -> tuple[Clip, Clip]:
        """Cut a clip in two new files at ``at_seconds``; the original file goes to the trash.

        The text is never copied into both halves (each would then train on the other's words):
        ``texts`` gives one for each half, or ``text_at`` the character position where the text
        splits (an editor's cursor); with neither, the first half keeps the text and the second
        is left empty, which flags it ``empty`` until someone types what it says.
        """
        r = self._row(n)
        c: Clip = self.rows[r]  # type: ignore[assignment]
        if text_at is not None and not 0 <= text_at <= len(c.text):
            raise TranscriptError(f"cannot split the text at character {text_at}: it has {len(c.text)}",
                                  "give a position inside the text")
        src = self._require_audio(c)
        # every name first (bounded: a long name plus "_1" or "~replaced" may not fit), then the writes
        out_a = unique_path(src.parent, f"{src.stem}_1", ".wav")
        out_b = unique_path(src.parent, f"{src.stem}_2", ".wav", taken=(out_a,))
        pa = self.trash.target(out_a)
        pb = self.trash.target(out_b, taken=(pa,))
        retired = self._retire((c,), (src,))
        split_audio(src, at_seconds, out_a, out_b)
        if texts is not None:
            ta, tb = clean_text(texts[0]), clean_text(texts[1])
        elif text_at is not None:
            ta, tb = clean_text(c.text[:text_at]), clean_text(c.text[text_at:])
        else:
            ta, tb = c.text, ""
        ca = Clip(sibling_path_string(c.path, out_a.name), c.speaker, c.lang, ta, None, c.ending)
        cb = Clip(sibling_path_string(c.path, out_b.name), c.speaker, c.lang, tb, None, c.ending)
        self._do(Splice(r, (c,), (ca, cb), f"split clip {n + 1} at {at_seconds:.2f} s",
                        ((str(pa), str(out_a)), (str(pb), str(out_b)), *retired),
                        ((str(out_a), str(pa)), (str(out_b), str(pb)), *((dst, s) for s, dst in retired))))
        return ca, cb

    # --- trash --------------------------------------------------------------------------
    def trashed(self) -> list[TrashedClip]:
        """Deleted clips of this list whose audio is still in the trash, newest first."""
        return self.trash.items(self.path, {c.path for c in self.clips()})

    def restore(self, item: TrashedClip) -> int:
        """Put a deleted clip back where it was; returns its clip ordinal."""
        r = min(item.index, len(self.rows))
        self._do(Splice(r, (), (item.row,), f"restore {path_basename(item.row.path)}",
                        ((item.trash, item.original),), ((item.original, item.trash),)))
        return self.ordinal_of_row(r)

    # --- reference for inference ---------------------------------------------------------
    def reference_for(self, n: int) -> dict[str, str]:
        c = self.clip(n)
        p = self.audio_path(n)
        if p is None:
            raise ClipAudioError(f"audio of {path_basename(c.path)} not found",
                                 "pick a clip whose file exists")
        return {"audio_path": str(p), "text": c.text.strip(),
                "language": canonical_language(c.lang) or c.lang.lower()}

    def keep_reference(self, ref: dict[str, str]) -> None:
        """Remember the reference chosen from a list outside any project (in its review file,
        with the next save); inside a project the application layer stores it with the project."""
        self.review.keep_reference(ref)

    # --- saving -------------------------------------------------------------------------
    def render(self) -> bytes:
        return render(self.rows, self.style)

    def changed_on_disk(self) -> bool:
        """True when the file is not what we last read or wrote (mtime+size, then hash)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return True
        if (st.st_mtime_ns, st.st_size) == (self._disk.mtime_ns, self._disk.size):
            return False
        try:
            sha = _sha(self.path.read_bytes())
        except OSError:
            return True
        if sha == self._disk.sha:
            self._disk = DiskSignature(st.st_mtime_ns, st.st_size, sha)
            return False
        return True

    def save(self, force: bool = False) -> bool:
        """Write the list if it changed: the previous version goes to ``<name>.list.bak``, the
        new one is written atomically. Raises :class:`TranscriptChangedOnDisk` rather than
        overwrite someone else's edit (unless ``force``)."""
        if not self.dirty and not force:
            return False
        if not force and self.changed_on_disk():
            raise TranscriptChangedOnDisk(
                f"{self.path.name} was changed on disk by another program since it was opened",
                "reload it (drops our unsaved edits) or merge (re-applies our edits on top)")
        data = self.render()
        wrote = False
        try:
            old = self.path.read_bytes()
        except FileNotFoundError:
            old = None
        sha = _sha(data)
        # logged before the replace: a kill right after it still finds the file in the history
        self.history.append({"t": "saving", "sha": sha})
        if old != data:
            if old is not None:
                atomic_write_bytes(self.path.with_name(self.path.name + ".bak"), old)
            atomic_write_bytes(self.path, data)
            wrote = True
        st = self.path.stat()
        self._disk = DiskSignature(st.st_mtime_ns, st.st_size, sha)
        self._saved_version = self.version
        if self.review.dirty:
            self.review.save()
        return wrote

    def reload(self) -> "Transcript":
        """The file as it is on disk now (our unsaved edits dropped; history restarts)."""
        return Transcript.open(self.path, self.flag_settings, self.project_root)

    def merge_disk_changes(self) -> "Transcript":
        """Re-apply our unsaved edits on top of the file as it is on disk now.

        Each edit is matched by its rows' content; an edit whose rows are gone on disk cannot be
        re-applied and is reported (the audio moves it made stay undone-able from the trash).
        """
        unsaved = self._unsaved_splices()
        fresh = Transcript.open(self.path, self.flag_settings, self.project_root)
        skipped = 0
        for s in unsaved:
            idx = _find_rows(fresh.rows, s.old, s.index)
            if idx is None:
                skipped += 1
                continue
            on_disk = tuple(fresh.rows[idx:idx + len(s.old)])
            fresh._do(Splice(idx, on_disk, s.new, s.label, s.do_moves, s.undo_moves))
        for key in sorted(self.review.keys - fresh.review.keys):
            fresh.review.add(key)
        fresh.review.reference = self.review.reference or fresh.review.reference
        fresh.review.dirty = True
        if skipped:
            fresh.notices.append(f"{skipped} of our edits no longer matched the file and were not applied")
        return fresh

    def _unsaved_splices(self) -> list[Splice]:
        """The edits (as splices on the saved rows) that make up our unsaved state."""
        records = self.history.read()
        found = replay(records, self._disk.sha)
        if found is None:
            return list(self.state.done)
        snap, _pending = found
        saved_done = snap.done
        k = 0
        while k < min(len(saved_done), len(self.state.done)) and saved_done[k] == self.state.done[k]:
            k += 1
        out = [s.inverse() for s in reversed(saved_done[k:])]
        out += self.state.done[k:]
        return out


def _find_rows(rows: list[Row], want: tuple[Row, ...], near: int) -> int | None:
    n = len(want)
    if n == 0:
        return min(near, len(rows))
    def match(i: int) -> bool:
        return i >= 0 and i + n <= len(rows) and all(_same(rows[i + k], want[k]) for k in range(n))
    if match(near):
        return near
    for i in range(len(rows)):
        if match(i):
            return i
    return None


def _same(a: Row, b: Row) -> bool:
    return a.line() == b.line()
