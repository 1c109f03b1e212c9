#!/usr/bin/env bash
# One-step set-up for gsv-tui on a fresh Linux machine with Python 3.11+.
#
#   ./setup.sh tui     set up, then start the TUI (extra arguments go to gsv-tui)
#   ./setup.sh test    set up with the test extras, then run the whole test suite
#   ./setup.sh         set up only
#
# The virtual environment lives in .venv next to this file (override with GSV_VENV).
# torch is installed first: an already-importable torch is kept; otherwise TORCH_SPEC
# (default torch==2.13.0 — the CPU build where only that file is at hand, the CUDA build
# from the package registry on a GPU box).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${GSV_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
mode="${1:-setup}"
[ $# -gt 0 ] && shift

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
pip_install() { "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"; }

if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
    pip_install "${TORCH_SPEC:-torch==2.13.0}"
fi

# Reinstall only when the project's dependency list changed since the last set-up, or when this
# mode needs extras that were not installed. The stamp holds the list's hash and the extras
# installed with it; extras once installed are kept (the test extras hold all the TUI needs, so
# `./setup.sh tui` after `./setup.sh test` installs nothing).
need=""
[ "$mode" = "test" ] && need="test"
stamp="$venv/.gsv-setup-stamp"
hash="$(sha256sum "$here/pyproject.toml" | cut -d' ' -f1)"
have_hash="" have_extras=""
[ -f "$stamp" ] && read -r have_hash have_extras < "$stamp" || true
extras="$have_extras"
case ",$have_extras," in
    *",$need,"*) ;;
    *) [ -n "$need" ] && extras="${have_extras:+$have_extras,}$need" ;;
esac
if [ "$have_hash" != "$hash" ] || [ "$extras" != "$have_extras" ]; then
    pip_install -e "$here${extras:+[$extras]}"
    echo "$hash $extras" > "$stamp"
fi

# The tests run `gsv clean` on its real runner (audio-separator), which is not a dependency: it goes
# in with only what our model families need, without its declared dependencies (onnx-weekly would
# overwrite onnx's files; torchvision does not load beside a CPU torch), torch and numpy held as
# they are. backend/clean/install.py declares the list; `gsv install-cleaner` runs the same install.
if [ "$mode" = "test" ] && ! "$venv/bin/python" -m backend.clean.install --check 2>/dev/null; then
    "$venv/bin/python" -m backend.clean.install | grep -E '^(Successfully|ERROR)' || true
    "$venv/bin/python" -m backend.clean.install --check
fi

case "$mode" in
    tui)   exec "$venv/bin/gsv-tui" "$@" ;;
    test)
        cd "$here"
        # Runtime data of the text frontend: a checkout beside ours when present (CI), else the cache.
        if [ -z "${GSV_FRONTEND_DATA:-}" ] && [ -d "$here/../shared/frontend-data" ]; then
            export GSV_FRONTEND_DATA="$(cd "$here/../shared/frontend-data" && pwd)"
        fi
        export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
        exec "$venv/bin/python" -m pytest -q -n "${GSV_TEST_WORKERS:-2}" "$@" ;;
    setup) echo "gsv-tui is set up in $venv" ;;
    *) echo "usage: ./setup.sh [tui|test|setup] [args...]" >&2; exit 2 ;;
esac
