"""Every key of the TUI, as data.

Each binding has a stable *id* (``context.name``) so a person can rebind it in ``config.toml``::

    [keys]
    "jobs.cancel" = "x"
    "app.mode.jobs" = "5,j"

The help screen, the footer and the user overrides are all generated from this one table, so
a key can never exist without being listed. A screen declares its keys once, next to itself::

    KEYS = keymap.define("jobs", "Jobs screen", [
        KeySpec("jobs.cancel", "c", "cancel_job", "Cancel the selected job"),
    ])
    class JobsScreen(ModeScreen):
        BINDINGS = KEYS

``define`` registers the section (for help and override validation) and returns Textual
``Binding`` objects carrying the ids, which Textual's own keymap machinery then rebinds.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Iterable

from textual.binding import Binding, BindingType
from textual.keys import REPLACED_KEYS, Keys

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})


@dataclass(frozen=True)
class KeySpec:
    """One binding: stable id, default key(s) (comma-separated), the Textual action it runs."""

    id: str
    key: str
    action: str
    description: str  # short: the footer label
    show: bool = True  # shown in the footer
    priority: bool = False  # fires even when a text field has focus
    help: str = ""  # longer words for the help screen (default: the description)


@dataclass(frozen=True)
class Section:
    """The keys of one context (the whole app, or one screen)."""

    context: str
    title: str
    specs: tuple[KeySpec, ...]


_SECTIONS: dict[str, Section] = {}


def define(context: str, title: str, specs: Iterable[KeySpec]) -> list[BindingType]:
    """Register the keys of ``context`` and return them as Textual bindings (with ids).

    Ids must start with ``<context>.``, so an id says where the key works; redefining a
    context replaces it (a screen module re-imported in tests).
    """
    specs = tuple(specs)
    seen: set[str] = set()
    for s in specs:
        if not s.id.startswith(context + "."):
            raise ValueError(f"binding id {s.id!r} must start with {context + '.'!r}")
        if s.id in seen:
            raise ValueError(f"binding id {s.id!r} defined twice")
        seen.add(s.id)
    for other in _SECTIONS.values():
        if other.context != context and seen & {s.id for s in other.specs}:
            raise ValueError(f"binding ids {sorted(seen)} clash with section {other.context!r}")
    _SECTIONS[context] = Section(context, title, specs)
    return [to_binding(s) for s in specs]


def to_binding(spec: KeySpec) -> Binding:
    return Binding(spec.key, spec.action, spec.description, show=spec.show,
                   priority=spec.priority, id=spec.id)


def sections() -> list[Section]:
    """Registered sections, the app-wide one first."""
    return sorted(_SECTIONS.values(), key=lambda s: (s.context != "app", s.context))


def all_specs() -> dict[str, KeySpec]:
    return {s.id: s for sec in _SECTIONS.values() for s in sec.specs}


def effective_key(spec: KeySpec, overrides: dict[str, str]) -> str:
    return overrides.get(spec.id, spec.key)


def display_key(keys: str) -> str:
    """Human form of a comma-separated key list: ``question_mark,f1`` → ``? / F1``."""
    from textual.keys import format_key

    shown = []
    for k in keys.split(","):
        k = k.strip()
        parts = k.split("+")
        base = parts[-1]
        if len(base) > 1 and base not in _KEY_NAMES:
            base = _char_of(base) or base  # "question_mark" -> "?", "slash" -> "/"
        shown.append("+".join([*parts[:-1], format_key(base) if len(base) > 1 else base]))
    return " / ".join(shown)


_KEY_NAMES = {k.value for k in Keys} | {
    "enter", "tab", "space", "backspace", "delete", "escape", "home", "end", "pageup", "pagedown",
    "up", "down", "left", "right", "insert"} | {f"f{i}" for i in range(1, 25)}


def is_valid_key(key: str) -> bool:
    """Whether ``key`` (one key, e.g. ``x``, ``ctrl+r``, ``f5``, ``question_mark``) can be typed."""
    parts = key.strip().split("+")
    base, mods = parts[-1], parts[:-1]
    if not base or any(m not in MODIFIERS for m in mods):
        return False
    if len(base) == 1 and base.isprintable():
        return True
    return base in _KEY_NAMES or f"ctrl+{base}" in _KEY_NAMES or _char_of(base) is not None


def _char_of(name: str) -> str | None:
    """The character a Textual key name stands for (``question_mark`` → ``?``), else None."""
    name = REPLACED_KEYS.get(name, name)  # Textual's short names: slash, minus, plus, at…
    for spelled in (name.replace("_", " "), name.replace("_", "-")):  # HYPHEN-MINUS has a dash
        try:
            return unicodedata.lookup(spelled.upper())
        except KeyError:
            continue
    return None


@dataclass(frozen=True)
class OverrideReport:
    """User key overrides after validation: what applies, and one line per problem."""

    keymap: dict[str, str]
    problems: tuple[str, ...]


def validate_overrides(keys: dict[str, str]) -> OverrideReport:
    """Check ``Config.keys`` (binding id → keys) against the registered bindings.

    Unknown ids and untypeable keys are dropped with a message naming them; two bindings of
    one context (or of a screen and the app) ending up on the same key is reported too,
    because then one of them silently stops working.
    """
    specs = all_specs()
    problems: list[str] = []
    ok: dict[str, str] = {}
    for bid, value in keys.items():
        if bid not in specs:
            close = [i for i in specs if i.split(".")[-1] == bid.split(".")[-1]]
            hint = f" (did you mean {close[0]!r}?)" if close else " (press ? to see every id)"
            problems.append(f"[keys] {bid!r} is not a binding id{hint}")
            continue
        bad = [k for k in value.split(",") if not is_valid_key(k)]
        if bad:
            problems.append(f"[keys] {bid!r} = {value!r}: {', '.join(repr(b) for b in bad)} is not a key name"
                            " (use e.g. 'x', 'ctrl+r', 'f5', 'question_mark')")
            continue
        ok[bid] = ",".join(k.strip() for k in value.split(","))
    # Clashes: within each context, plus that context against the app-wide keys.
    app = _SECTIONS.get("app")
    for sec in _SECTIONS.values():
        pool = list(sec.specs) + (list(app.specs) if app and sec.context != "app" else [])
        owner: dict[str, str] = {}
        for s in pool:
            for k in effective_key(s, ok).split(","):
                k = k.strip()
                other = owner.get(k)
                if other and other != s.id and (s.id in ok or other in ok):
                    msg = f"[keys] {other!r} and {s.id!r} are both on {k!r}; only one will work"
                    if msg not in problems:
                        problems.append(msg)
                owner.setdefault(k, s.id)
    return OverrideReport(ok, tuple(problems))


# --- the app-wide keys -----------------------------------------------------------------------
MODE_ORDER = ("dataset", "transcripts", "training", "inference", "jobs")

APP_KEYS = define("app", "Everywhere", [
    # The mode bar shows these, so the footer does not repeat them.
    KeySpec("app.mode.dataset", "1", "switch_mode('dataset')", "Dataset mode", show=False),
    KeySpec("app.mode.transcripts", "2", "switch_mode('transcripts')", "Transcripts mode", show=False),
    KeySpec("app.mode.training", "3", "switch_mode('training')", "Training mode", show=False),
    KeySpec("app.mode.inference", "4", "switch_mode('inference')", "Inference mode", show=False),
    KeySpec("app.mode.jobs", "5", "switch_mode('jobs')", "Jobs mode", show=False),
    KeySpec("app.project", "p", "pick_project", "Project", help="Open or create a project"),
    KeySpec("app.help", "question_mark", "help", "Help", help="This list of keys"),
    KeySpec("app.listen", "w", "listen", "Listen", show=False,
            help="Hear clips in your own browser over SSH (the listening bridge)"),
    KeySpec("app.palette", "ctrl+p", "command_palette", "Commands", show=False, priority=True,
            help="Command palette (find any command)"),
    KeySpec("app.focus_next", "tab", "focus_next", "Next", show=False, help="Next field, table or pane"),
    KeySpec("app.focus_previous", "shift+tab", "focus_previous", "Previous", show=False,
            help="Previous field, table or pane"),
    KeySpec("app.quit", "q", "quit", "Quit"),
    KeySpec("app.quit_anywhere", "ctrl+q", "quit", "Quit", show=False, priority=True,
            help="Quit, even while typing in a field"),
])
