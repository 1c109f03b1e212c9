"""Keys as Textual bindings, shown and overridden by id; the table itself is :mod:`gsv_tui.keys`.

Each binding has a stable *id* (``context.name``) so a person can rebind it in ``config.toml``::

    [keys]
    "jobs.cancel" = "x"
    "app.mode.jobs" = "5,j"

The help screen, the footer and the user overrides all read the one table in ``keys.py``, which
is plain data imported with the app: every screen's keys are known at start-up, before any
screen module is imported. A screen takes its own::

    class JobsScreen(ModeScreen):
        BINDINGS = keymap.bindings("jobs")

``bindings`` returns Textual ``Binding`` objects carrying the ids, which Textual's own keymap
machinery then rebinds.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from textual.binding import Binding, BindingType
from textual.keys import REPLACED_KEYS, Keys

from .keys import MODE_ORDER, SECTIONS, KeySpec, Section

__all__ = ["MODE_ORDER", "KeySpec", "Section", "bindings", "sections", "all_specs", "validate_overrides"]

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})

_BY_CONTEXT: dict[str, Section] = {sec.context: sec for sec in SECTIONS}


def bindings(context: str) -> list[BindingType]:
    """The Textual bindings (with ids) of one context of the table (KeyError: no such context)."""
    return [to_binding(s) for s in _BY_CONTEXT[context].specs]


def to_binding(spec: KeySpec) -> Binding:
    return Binding(spec.key, spec.action, spec.description, show=spec.show,
                   priority=spec.priority, id=spec.id)


def sections() -> list[Section]:
    """Every section, in the table's order (the app-wide one first)."""
    return list(SECTIONS)


def all_specs() -> dict[str, KeySpec]:
    return {s.id: s for sec in SECTIONS for s in sec.specs}


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
    """Check ``Config.keys`` (binding id → keys) against the table of bindings.

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
    app = _BY_CONTEXT.get("app")
    for sec in SECTIONS:
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


APP_KEYS = bindings("app")
