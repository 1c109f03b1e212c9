"""The contract every stage module follows.

A stage module ``backend/stages/<name>.py`` defines:

- ``STAGE = StageSpec(name=..., help=..., uses_gpu=...)``
- ``Params``: a dataclass of JSON-able fields (str, int, float, bool, None, Path, lists and
  dicts of those) — the job record stores it, so a job can be re-run or inspected later.
- ``add_arguments(parser)``: adds the stage's own CLI options to an argparse parser.
- ``params_from_args(args, workspace) -> Params``: builds Params from parsed CLI args (resolving
  ``--project`` through the workspace); raises :class:`~backend.errors.GsvError` for bad input.
- ``run(params, report) -> None``: does the work, reporting through ``report`` (a
  :class:`~backend.jobs.events.Reporter`). Raises GsvError for user errors.
- ``expected_outputs(params) -> list[Path]``: files that must exist for the job to count as
  succeeded (checked after exit 0).
- optional ``project_of(params) -> str | None``: the project name the job belongs to.

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
