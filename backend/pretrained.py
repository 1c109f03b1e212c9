"""Official pretrained base models: which files each version needs, where they are, fetching them.

Every file lives in the HuggingFace repository ``lj1995/GPT-SoVITS`` under the same relative
name the official install uses in ``GPT_SoVITS/pretrained_models/``. We keep them either in
the HuggingFace cache (default; shared with other tools) or in a chosen folder with the
official layout (``--dir`` or ``$GSV_PRETRAINED_DIR`` — pointing it at an official install's
``pretrained_models`` reuses its files). ``HF_HUB_OFFLINE=1`` is honoured: nothing is
downloaded and a missing file is a :class:`MissingPretrainedError` naming the command that
fetches it. Downloads resume (huggingface_hub keeps ``.incomplete`` files), report byte
progress, and are verified against the hub's size and SHA-256.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import GsvError

REPO_ID = "lj1995/GPT-SoVITS"
VERSIONS = ("v1", "v2", "v2Pro", "v2ProPlus")
ROLES = ("hubert", "bert", "s1", "s2G", "s2D", "sv")


class PretrainedError(GsvError):
    """A pretrained base model is unavailable or damaged."""


class MissingPretrainedError(PretrainedError):
    """A needed pretrained file is not on this machine."""


class PretrainedDownloadError(PretrainedError):
    """Fetching a pretrained file failed (offline, network, or verification)."""


@dataclass(frozen=True)
class PretrainedFile:
    """One file of the hub repository and what it is for."""

    role: str  # hubert | bert | s1 | s2G | s2D | sv
    path: str  # relative name in the repo and in pretrained_models/


HUBERT = tuple(PretrainedFile("hubert", f"chinese-hubert-base/{n}")
               for n in ("config.json", "preprocessor_config.json", "pytorch_model.bin"))
BERT = tuple(PretrainedFile("bert", f"chinese-roberta-wwm-ext-large/{n}")
             for n in ("config.json", "tokenizer.json", "pytorch_model.bin"))
SV = (PretrainedFile("sv", "sv/pretrained_eres2netv2w24s4ep4.ckpt"),)

_PER_VERSION: dict[str, tuple[PretrainedFile, ...]] = {
    "v1": (PretrainedFile("s1", "s1bert25hz-2kh-longer-epoch=68e-step=50232.ckpt"),
           PretrainedFile("s2G", "s2G488k.pth"), PretrainedFile("s2D", "s2D488k.pth")),
    "v2": (PretrainedFile("s1", "gsv-v2final-pretrained/s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt"),
           PretrainedFile("s2G", "gsv-v2final-pretrained/s2G2333k.pth"),
           PretrainedFile("s2D", "gsv-v2final-pretrained/s2D2333k.pth")),
    "v2Pro": (PretrainedFile("s1", "s1v3.ckpt"), PretrainedFile("s2G", "v2Pro/s2Gv2Pro.pth"),
              PretrainedFile("s2D", "v2Pro/s2Dv2Pro.pth"), *SV),
    "v2ProPlus": (PretrainedFile("s1", "s1v3.ckpt"), PretrainedFile("s2G", "v2Pro/s2Gv2ProPlus.pth"),
                  PretrainedFile("s2D", "v2Pro/s2Dv2ProPlus.pth"), *SV),
}


def files_for(version: str, roles: Iterable[str] | None = None) -> tuple[PretrainedFile, ...]:
    """Every file a version needs (HuBERT, RoBERTa, its GPT and SoVITS bases, SV for Pro)."""
    if version not in _PER_VERSION:
        raise PretrainedError(f"unknown model version {version!r}", fix=f"use one of {', '.join(VERSIONS)}")
    files = (*HUBERT, *BERT, *_PER_VERSION[version])
    if roles is not None:
        wanted = set(roles)
        files = tuple(f for f in files if f.role in wanted)
    return files


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def default_dir() -> Path | None:
    d = os.environ.get("GSV_PRETRAINED_DIR")
    return Path(d).expanduser() if d else None


def copy_hint(path: str, directory: Path | None = None) -> str:
    """Where a person copies a file by hand (no network): the folder in use, else how to name one."""
    directory = directory if directory is not None else default_dir()
    if directory is not None:
        return f"copy it to {directory / path}"
    return f"set GSV_PRETRAINED_DIR to a copy of an official pretrained_models folder (with {path})"


def fetch_command(version: str, directory: Path | None = None) -> str:
    return f"gsv models fetch {version}" + (f" --dir {directory}" if directory else "")


def locate(file: PretrainedFile, directory: Path | None = None) -> Path | None:
    """Where the file is on this machine, or None. Never touches the network."""
    directory = directory if directory is not None else default_dir()
    if directory is not None:
        p = directory / file.path
        return p if p.is_file() else None
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(REPO_ID, file.path)
    return Path(found) if isinstance(found, str) and Path(found).is_file() else None


def status(version: str, directory: Path | None = None) -> list[tuple[PretrainedFile, Path | None]]:
    return [(f, locate(f, directory)) for f in files_for(version)]


def require(version: str, roles: Iterable[str], directory: Path | None = None) -> dict[str, Path]:
    """Paths of the files with these roles (a folder for hubert/bert); named error if any is missing."""
    out: dict[str, Path] = {}
    missing: list[str] = []
    for f in files_for(version, roles):
        p = locate(f, directory)
        if p is None:
            missing.append(f.path)
            continue
        out[f.role] = p.parent if f.role in ("hubert", "bert") else p
    if missing:
        raise MissingPretrainedError(
            f"pretrained {version} files missing: {', '.join(missing)}",
            fix=f"run `{fetch_command(version, directory)}`" + (" (HF_HUB_OFFLINE is set: unset it first)"
                                                                  if offline() else "")
                + f"; or, without the network, {copy_hint(missing[0], directory)}")
    return out


ProgressFn = Callable[[str, int, int | None], None]  # (file, bytes done, bytes total)


def progress_to(reporter: Any) -> ProgressFn:
    """A ``fetch`` progress callback that emits job ``progress`` events (bytes, labelled by file)."""

    def report(name: str, done: int, total: int | None) -> None:
        reporter.progress(done, total, unit="bytes", label=name)

    return report


def reporting_tqdm(label: str, on_progress: ProgressFn | None):
    """A tqdm class for huggingface_hub downloads that hands ``(label, done, total)`` to
    ``on_progress`` instead of drawing a bar. It counts for itself: a disabled tqdm does not."""
    from tqdm.auto import tqdm

    class _Progress(tqdm):  # type: ignore[misc, valid-type]
        def __init__(self, *a: Any, **kw: Any) -> None:
            kw["disable"] = on_progress is not None or kw.get("disable", False)
            super().__init__(*a, **kw)
            self._done = 0

        def update(self, n: int | float | None = 1) -> bool | None:
            r = super().update(n)
            self._done += int(n or 0)
            if on_progress is not None:
                on_progress(label, self._done, int(self.total) if self.total else None)
            return r

    return _Progress


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(version: str, directory: Path | None = None, roles: Iterable[str] | None = None,
          on_progress: ProgressFn | None = None, endpoint: str | None = None) -> dict[str, Path]:
    """Download what is missing for ``version``; returns every file's path (keyed by repo path)."""
    directory = directory if directory is not None else default_dir()
    paths: dict[str, Path] = {}
    for f in files_for(version, roles):
        have = locate(f, directory)
        paths[f.path] = have if have is not None else download_verified(REPO_ID, f.path, directory, on_progress,
                                                                        endpoint)
    return paths


def download_verified(repo: str, path: str, directory: Path | None = None, on_progress: ProgressFn | None = None,
                      endpoint: str | None = None) -> Path:
    """One file of a hub repository into ``directory`` (None: the HF cache), resumed if partial,
    checked against the hub's size and SHA-256; a damaged download is removed, never kept."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url

    if offline():
        raise PretrainedDownloadError(f"{path} is missing and HF_HUB_OFFLINE is set",
                                      fix=f"unset HF_HUB_OFFLINE and fetch again; or {copy_hint(path, directory)}")
    try:
        meta = get_hf_file_metadata(hf_hub_url(repo, path, endpoint=endpoint))
        got = Path(hf_hub_download(repo, path, local_dir=directory, endpoint=endpoint,
                                   tqdm_class=reporting_tqdm(path, on_progress)))
    except Exception as e:  # network, auth, disk: one named error with the cause
        raise PretrainedDownloadError(f"could not download {path} from {repo}: {e}",
                                      fix="check the network (or HF_ENDPOINT for a mirror) and run the fetch again; "
                                          "finished files are kept") from e
    problem = None
    if meta.size is not None and got.stat().st_size != meta.size:
        problem = f"size {got.stat().st_size} != {meta.size} on the hub"
    etag = (meta.etag or "").strip('"')
    if problem is None and len(etag) == 64 and all(c in "0123456789abcdef" for c in etag) \
            and _sha256(got) != etag:
        problem = "SHA-256 does not match the hub"
    if problem is not None:
        got.unlink(missing_ok=True)  # a damaged download is never left where a loader would find it
        raise PretrainedDownloadError(f"{path}: {problem}; the damaged download was removed",
                                      fix="fetch again (a proxy or mirror may be altering files)")
    return got


def fetch_all(versions: Iterable[str], directory: Path | None = None, roles: Iterable[str] | None = None,
              on_progress: ProgressFn | None = None, endpoint: str | None = None,
              on_done: Callable[[str, int], None] | None = None) -> None:
    """Fetch every version's files, then (unless ``roles`` narrows the fetch to some kinds of
    model) the text frontend's dictionaries and tagger, which every version needs too, and for
    v2 and later the G2PW model that reads Chinese polyphones (the official install fetches it
    too). ``on_done(what, n_files)`` after each version and after each of those."""
    roles = list(roles) if roles else None
    done = on_done or (lambda what, n: None)
    versions = list(versions)
    for v in versions:
        done(v, len(fetch(v, directory, roles=roles, on_progress=on_progress, endpoint=endpoint)))
    if roles is None:
        from .text import g2pw
        from .text.data import fetch_official_files

        done("text frontend data", len(fetch_official_files(progress=on_progress)))
        if any(v != "v1" for v in versions) and g2pw.model_dir() is None:
            fetch_g2pw(on_progress, endpoint)
            done("G2PW (Chinese polyphones)", 1)


def fetch_g2pw(on_progress: ProgressFn | None = None, endpoint: str | None = None) -> Path:
    """Download the G2PW polyphone model into the text data folder (checked, then unpacked).

    The official code fetches it whenever it is missing; formatting and inference call this too
    when v2+ Chinese needs it and the machine is online."""
    from .text import g2pw
    from .text.data import data_dir

    archive = download_verified(g2pw.G2PW_HF_REPO, g2pw.G2PW_HF_FILE, None, on_progress, endpoint)
    return g2pw.install_g2pw_zip(archive, data_dir())


# --------------------------------------------------------------------------- CLI
def _cli_list(_ws: Any, args: Any) -> int:
    import json

    versions = [args.version] if args.version else list(VERSIONS)
    rows = []
    for v in versions:
        for f, p in status(v, args.dir):
            rows.append({"version": v, "role": f.role, "file": f.path, "path": str(p) if p else None})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for v in versions:
        vr = [r for r in rows if r["version"] == v]
        n_missing = sum(r["path"] is None for r in vr)
        state = "complete" if not n_missing else f"{n_missing} missing — `{fetch_command(v, args.dir)}`"
        print(f"{v}: {state}")
        for r in vr:
            print(f"  {'ok ' if r['path'] else '-- '} {r['role']:<6} {r['file']}")
    return 0


def _cli_fetch(_ws: Any, args: Any) -> int:
    import sys

    last: dict[str, int] = {}

    def show(name: str, done: int, total: int | None) -> None:
        pct = int(100 * done / total) if total else -1
        if last.get(name) != pct:
            last[name] = pct
            print(f"\r{name}: {done / 1e6:.1f} MB" + (f" / {total / 1e6:.1f} MB ({pct}%)" if total else ""),
                  end="", file=sys.stderr, flush=True)

    def done(what: str, n: int) -> None:
        print(file=sys.stderr)
        print(f"{what}: {n} files ready")

    if not args.versions and args.clean is None:
        raise PretrainedError("nothing to fetch", fix=f"name a version ({', '.join(VERSIONS)}) and/or add --clean")
    bad = [v for v in args.versions if v not in VERSIONS]
    if bad:
        raise PretrainedError(f"unknown model version(s) {', '.join(bad)}", fix=f"use some of {', '.join(VERSIONS)}")
    if args.versions:
        fetch_all(args.versions, args.dir, args.only, show, args.endpoint, done)
    if args.clean is not None:
        from .clean.fetch import fetch_named

        done("cleaning models", len(fetch_named(args.clean, show)))
    return 0


def register(sub: Any) -> None:
    """Add ``gsv models list|fetch`` to the top-level parser."""
    p = sub.add_parser("models", help="pretrained base models: what each version needs, fetch them")
    msub = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    pl = msub.add_parser("list", help="which pretrained files each version needs and which are here")
    pl.add_argument("--version", choices=VERSIONS)
    pl.add_argument("--dir", type=Path, default=None, help="folder with the official layout (default: HF cache)")
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(func=_cli_list)
    pf = msub.add_parser("fetch", help=f"download the pretrained files of versions from {REPO_ID} "
                                       "(here and now; `gsv fetch-models` runs it as a job)")
    pf.add_argument("versions", nargs="*", metavar="VERSION", help=f"any of {', '.join(VERSIONS)}")
    add_fetch_options(pf)
    pf.add_argument("--clean", nargs="*", default=None, metavar="MODEL",
                    help="also the models of `gsv clean` (no MODEL: each step's default; `gsv clean --list-models`)")
    pf.set_defaults(func=_cli_fetch)


def add_fetch_options(parser: Any) -> None:
    """Options shared by ``gsv models fetch`` and the ``fetch-models`` job stage."""
    parser.add_argument("--dir", type=Path, default=None, help="folder with the official layout (default: HF cache)")
    parser.add_argument("--only", nargs="+", choices=ROLES, help="only these kinds of files")
    parser.add_argument("--endpoint", default=None,
                        help="a HuggingFace mirror, e.g. https://hf-mirror.com (default: $HF_ENDPOINT or the hub)")
