"""How a form shows a stage's parameters: label, default text, parsing — read from ``Params``.

The TUI's forms are built from these (and ``--help`` from the same declarations), so changing a
default or a limit in a stage's ``Params`` changes every place it is shown.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

from ..stages.base import param_default, param_info, problem_fields


@dataclass(frozen=True)
class FieldSpec:
    """One numeric field of a form."""

    name: str  # the Params field
    label: str
    kind: type  # int or float
    default: Any
    off_when_zero: bool = False  # 0 typed means None ("off"/"auto")
    blank_is_none: bool = False  # an empty field means None

    @property
    def default_text(self) -> str:
        return number_text(self.default, off="0" if self.off_when_zero else "")

    def parse(self, raw: str) -> Any:
        """The typed text as a value; ValueError with a sentence when it is not a number."""
        raw = raw.strip()
        if not raw and self.blank_is_none:
            return None
        try:
            value: Any = int(float(raw)) if self.kind is int and raw and float(raw).is_integer() else self.kind(raw)
        except ValueError:
            raise ValueError(f"{self.name}: {raw!r} is not {'a whole number' if self.kind is int else 'a number'}") \
                from None
        return None if self.off_when_zero and value == 0 else value


def number_text(value: Any, off: str = "") -> str:
    if value is None:
        return off
    return f"{value:g}" if isinstance(value, float) else str(value)


def field_spec(cls: Any, name: str, *, off_when_zero: bool = False, blank_is_none: bool = False) -> FieldSpec:
    """A form field for ``cls.name``: label, type and default from the declaration."""
    hint = typing.get_type_hints(cls)[name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    kind = args[0] if args else hint
    return FieldSpec(name, param_info(cls, name).label or name, kind if kind in (int, float) else float,
                     param_default(cls, name), off_when_zero, blank_is_none)


def fields_of(cls: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


__all__ = ["FieldSpec", "field_spec", "fields_of", "number_text", "problem_fields"]
