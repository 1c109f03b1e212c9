"""The contract every stage module follows.

A stage module ``backend/stages/<name>.py`` defines:

- ``STAGE = StageSpec(name=..., help=..., uses_gpu=...)``
- ``Params``: a dataclass of JSON-able fields (str, int, float, bool, None, Path, lists and
  dicts of those) — the job record stores it, so a job can be re-run or inspected later.
- ``add_arguments(parser)``: adds the stage's own CLI options to an argparse parser.
- ``params_from_args(args, workspace) -> Params``: builds Params from parsed CLI args (resolving
  ``--project`` through the workspace); raises :class:`~backend.errors.GsvError` for bad input.
- ``run(params, report) -> None``: does the work, reporting through ``report`` (a
  :class:`~backend.progress.Reporter`). Raises GsvError for user errors.
- ``expected_outputs(params) -> list[Path]``: files that must exist for the job to count as
  succeeded (checked after exit 0).
- optional ``project_of(params) -> str | None``: the project name the job belongs to.
- optional ``result_text(params) -> str | None``: what the ``gsv`` command prints on stdout once
  the job has succeeded (read back from the stage's outputs).

The same ``run`` is called by the job runner (in a subprocess), by tests, and in-process by
anything that wants it directly.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StageSpec:
    name: str
    help: str
    uses_gpu: bool = False


def _to_jsonable(v: Any) -> Any:
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, (list, tuple)):
        return [_to_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _to_jsonable(x) for k, x in v.items()}
    return v


def params_to_json(params: Any) -> dict[str, Any]:
    return {f.name: _to_jsonable(getattr(params, f.name)) for f in dataclasses.fields(params)}


def _coerce(tp: Any, v: Any) -> Any:
    if v is None:
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Path:
        return Path(v)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        return _coerce(non_none[0], v) if len(non_none) == 1 else v
    if origin in (list, tuple) and args:
        items = [_coerce(args[0], x) for x in v]
        return items if origin is list else tuple(items)
    return v


def params_from_json(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a Params dataclass from its JSON form (Paths restored, unknown keys refused)."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown parameters {sorted(unknown)}")
    return cls(**{k: _coerce(hints[k], v) for k, v in data.items()})


# --- one declaration per parameter ----------------------------------------------------------------

@dataclass(frozen=True)
class ParamInfo:
    """What a person needs to know about one parameter: shown by ``--help``, the TUI forms and
    :func:`range_problems`, so a default or a limit is written in one place only.

    ``low``/``high`` are inclusive unless ``low_open``/``high_open``; None values (``auto``,
    ``off``) are never range-checked. ``flag`` is the CLI option (default ``--<name-with-dashes>``);
    ``label`` the short form label (default the name); ``hidden`` keeps the option out of ``--help``;
    ``none`` says what a None value means.
    """

    help: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] | None = None
    flag: str | None = None
    label: str | None = None
    hidden: bool = False
    none: str = "off"  # what a None value means, as a person reads it ("auto", "off")

    def shown_name(self, name: str) -> str:
        """The name messages use: the CLI flag's when it differs from the field's (``--max``)."""
        return self.flag.lstrip("-").replace("-", "_") if self.flag else name

    def problem(self, name: str, value: Any) -> str | None:
        """One sentence when ``value`` is outside the declared range or choices, else None."""
        name = self.shown_name(name)
        if value is None or isinstance(value, bool):
            return None
        if self.choices is not None:
            return None if value in self.choices else f"{name} ({value!r}) must be one of {', '.join(self.choices)}"
        if not isinstance(value, (int, float)):
            return None
        too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        too_high = self.high is not None and (value >= self.high if self.high_open else value > self.high)
        if not (too_low or too_high):
            return None
        return f"{name} ({value:g}) must be {self.range_text()}"

    def range_text(self) -> str:
        lo, hi = self.low, self.high
        if lo is not None and hi is not None:
            return f"in {'(' if self.low_open else '['}{lo:g}, {hi:g}{')' if self.high_open else ']'}"
        if lo is not None:
            return f"above {lo:g}" if self.low_open else f"at least {lo:g}"
        if hi is not None:
            return f"below {hi:g}" if self.high_open else f"at most {hi:g}"
        return "valid"


def param(default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING, help: str = "",
          low: float | None = None, high: float | None = None, low_open: bool = False, high_open: bool = False,
          choices: tuple[str, ...] | None = None, flag: str | None = None, label: str | None = None,
          hidden: bool = False, none: str = "off") -> Any:
    """A dataclass field that carries its :class:`ParamInfo` (``Params`` fields are declared with it)."""
    info = ParamInfo(help=help, low=low, high=high, low_open=low_open, high_open=high_open, choices=choices,
                     flag=flag, label=label, hidden=hidden, none=none)
    return dataclasses.field(default=default, default_factory=default_factory, metadata={"param": info})


def param_info(cls: Any, name: str) -> ParamInfo:
    """The declaration of field ``name`` of a Params class (an empty one for plain fields)."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f.metadata.get("param", ParamInfo())
    raise KeyError(f"{getattr(cls, '__name__', cls)} has no parameter {name!r}")


def param_default(cls: Any, name: str) -> Any:
    """The declared default of field ``name`` (read live, so a changed default shows everywhere)."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            if f.default is not dataclasses.MISSING:
                return f.default
            if f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
            raise KeyError(f"{cls.__name__}.{name} has no default")
    raise KeyError(f"{getattr(cls, '__name__', cls)} has no parameter {name!r}")


def problem_fields(cls: Any, problems: list[str]) -> set[str]:
    """The fields of ``cls`` that ``problems`` (sentences starting with a shown name) are about."""
    out = set()
    for f in dataclasses.fields(cls):
        shown = f.metadata.get("param", ParamInfo()).shown_name(f.name)
        if any(p.startswith(shown + " ") or p.startswith(shown + ":") for p in problems):
            out.add(f.name)
    return out


def range_problems(params: Any) -> list[str]:
    """Every declared range or choice the values of ``params`` break, one sentence each."""
    out = []
    for f in dataclasses.fields(params):
        info = f.metadata.get("param")
        if info is not None:
            problem = info.problem(f.name, getattr(params, f.name))
            if problem:
                out.append(problem)
    return out


def _cli_type(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in typing.get_args(tp) if a is not type(None)]
        return _cli_type(non_none[0]) if len(non_none) == 1 else str
    return tp if tp in (int, float, str, Path) else str


def add_param_option(parser: Any, cls: Any, name: str, **overrides: Any) -> None:
    """Add the CLI option of Params field ``name``: flag, type, default, choices and help all come
    from its declaration (``overrides`` are passed to ``add_argument`` as they are)."""
    import argparse

    info = param_info(cls, name)
    default = param_default(cls, name)
    tp = typing.get_type_hints(cls)[name]
    kw: dict[str, Any] = {"dest": name, "default": default}
    if _cli_type(tp) is bool or tp is bool:
        kw["action"] = argparse.BooleanOptionalAction
    else:
        kw["type"] = _cli_type(tp)
        if info.choices is not None:
            kw["choices"] = info.choices
    shown = info.none if default is None else (f"{default:g}" if isinstance(default, float) else str(default))
    help_text = info.help.replace("%", "%%")
    kw["help"] = argparse.SUPPRESS if info.hidden else (f"{help_text} (default {shown})" if help_text else
                                                         f"default {shown}")
    kw.update(overrides)
    parser.add_argument(info.flag or "--" + name.replace("_", "-"), **kw)
