"""Keys as data: every binding has an id, user overrides from config.toml are checked and applied."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tui_helpers import SIZE, notices, record_notices, screen_text, wait_until

from backend.app import Application
from backend.config import Config
from backend.workspace import Workspace
from gsv_tui import keymap, keys
from gsv_tui.app import GsvApp
from gsv_tui.screens.help import HelpScreen
from gsv_tui.screens.jobs import JobsScreen
from gsv_tui.widgets.mode_bar import ModeBar


def test_every_binding_has_a_unique_id_in_its_context() -> None:
    specs = keymap.all_specs()
    assert len(specs) == sum(len(s.specs) for s in keymap.sections())
    for sec in keymap.sections():
        for spec in sec.specs:
            assert spec.id.startswith(sec.context + ".")
            assert all(keymap.is_valid_key(k) for k in spec.key.split(","))
    for name, shown in (("slash", "/"), ("minus", "-"), ("question_mark", "?"), ("ctrl+r", "ctrl+r"),
                        ("escape", "esc"), ("f5", "f5"), ("space", "space")):
        assert keymap.is_valid_key(name) and keymap.display_key(name) == shown
    assert not keymap.is_valid_key("bogus") and not keymap.is_valid_key("hyper+") \
        and not keymap.is_valid_key("cmd+x")
    with pytest.raises(ValueError, match="must start with"):
        keys._section("mine", "Mine", [keymap.KeySpec("other.x", "x", "noop", "x")])
    with pytest.raises(ValueError, match="defined twice"):
        keys._section("mine", "Mine", [keymap.KeySpec("mine.x", "x", "noop", "x")] * 2)


def test_overrides_are_validated_with_a_message_per_problem() -> None:
    report = keymap.validate_overrides({
        "app.mode.jobs": "j",
        "cancel": "x",  # not an id
        "jobs.follow": "ctrl+",  # not a key
        "jobs.refresh": "c",  # clashes with jobs.cancel
    })
    assert report.keymap == {"app.mode.jobs": "j", "jobs.refresh": "c"}
    text = "\n".join(report.problems)
    assert re.search(r"'cancel' is not a binding id \(did you mean '\w+\.cancel'\?\)", text)
    assert "'ctrl+' is not a key name" in text
    assert "'jobs.cancel' and 'jobs.refresh' are both on 'c'" in text


async def test_user_overrides_rebind_keys_everywhere(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "home")
    ws.create_project("alice")
    config = Config(keys={"app.mode.jobs": "j", "jobs.follow": "w", "app.help": "f1", "bogus.id": "x"})
    app = record_notices(GsvApp(Application(workspace=ws, config=config), project="alice", watch_jobs=False))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert any("'bogus.id' is not a binding id" in n.message for n in notices(app))
        tabs = {t.mode: t.key for t in app.screen.query_one(ModeBar).tabs}
        assert tabs["jobs"] == "j"
        await pilot.press("escape")  # out of Dataset's path field, where 5 would be text
        await pilot.press("5")  # the old key no longer switches
        await pilot.pause()
        assert not isinstance(app.screen, JobsScreen)
        await pilot.press("j")
        await pilot.pause()
        assert isinstance(app.screen, JobsScreen)
        await wait_until(pilot, lambda: "w Follow" in screen_text(app), what="the footer's new key")
        await pilot.press("w")
        await wait_until(pilot, lambda: "follow off" in screen_text(app), what="follow turned off")
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = {bid: key for bid, (key, _) in app.screen.bindings_shown().items()}
        assert keys["app.mode.jobs"] == "j" and keys["jobs.follow"] == "w" and keys["app.help"] == "f1"
        assert "bogus.id" in screen_text(app)  # the problem is listed on the help screen too


# A fresh interpreter: no test has imported any screen module before the app starts, exactly as
# when a person runs gsv-tui. It prints what the help screen lists and which screens were loaded.
FRESH_APP = r"""
import asyncio, json, sys
from backend.app import Application
from gsv_tui.app import GsvApp
from gsv_tui.screens.help import HelpScreen

async def main():
    app = GsvApp(Application.from_args(home=sys.argv[1]), project="alice", watch_jobs=False, listen=False)
    out = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        out["problems"] = [n.message for n in app._notifications if "override" in (n.title or "")]
        out["screens_loaded"] = sorted(m for m in sys.modules if m.startswith("gsv_tui.screens.")
                                       and m.rsplit(".", 1)[-1] in ("transcripts", "training", "inference", "jobs"))
        await pilot.press(sys.argv[2])
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen), type(app.screen)
        out["shown"] = app.screen.bindings_shown()
        await pilot.press(sys.argv[4])  # help.close, rebound too
        await pilot.press(sys.argv[3])  # the Transcripts mode, by its key
        for _ in range(50):
            await pilot.pause(0.05)
            if type(app.screen).__name__ == "TranscriptsScreen":
                break
        out["screen"] = type(app.screen).__name__
        out["transcripts_keys"] = {k: b.binding.id for k, b in app.active_bindings.items()}
    print("RESULT " + json.dumps(out))

asyncio.run(main())
"""


def _readme_overrides() -> dict[str, str]:
    import tomllib

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("[keys]", 1)[1].split("```", 1)[0]
    return tomllib.loads("[keys]\n" + "\n".join(line.strip() for line in block.splitlines()[1:]))["keys"]


def test_a_fresh_start_lists_and_rebinds_every_key_of_every_screen(tmp_path: Path) -> None:
    """Screens are imported on first visit; the help and the overrides must not depend on that."""
    import os
    import subprocess
    import sys

    readme = _readme_overrides()
    overrides = dict(readme)
    free = iter(f"f{n}" for n in range(2, 25))
    for sec in keymap.sections():  # one override in every context, on a key no one uses
        if not any(bid.startswith(sec.context + ".") for bid in overrides):
            overrides[sec.specs[-1].id] = next(free)
    overrides["app.help"] = "f1"
    overrides["app.mode.transcripts"] = "2,f24"
    config = tmp_path / "config.toml"
    config.write_text("[keys]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in overrides.items()), encoding="utf-8")
    Workspace(tmp_path / "home").create_project("alice")
    env = {**os.environ, "GSV_CONFIG": str(config)}
    r = subprocess.run([sys.executable, "-c", FRESH_APP, str(tmp_path / "home"), "f1", "f24",
                        overrides["help.close"].split(",")[0]], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.split("RESULT ", 1)[1])
    assert out["screens_loaded"] == []  # nothing but the first screen was imported before `?`
    assert out["problems"] == []  # no override refused, none clashing
    shown = out["shown"]
    assert set(shown) == set(keymap.all_specs())  # every binding of every screen
    for bid, key in overrides.items():
        assert shown[bid][0] == keymap.display_key(key), bid
    for bid, key in readme.items():  # the README's own example does what it says
        context = bid.split(".", 1)[0]
        assert context == "transcripts"
        for k in key.split(","):
            assert out["transcripts_keys"].get(k) == bid, (k, out["screen"], out["transcripts_keys"])
