"""Keys as data: every binding has an id, user overrides from config.toml are checked and applied."""

from __future__ import annotations

import re

from pathlib import Path

import pytest

from backend.config import Config
from backend.workspace import Workspace
from gsv_tui import keymap
from gsv_tui.app import GsvApp
from backend.app import Application
from gsv_tui.screens.help import HelpScreen
from gsv_tui.screens.jobs import JobsScreen
from gsv_tui.widgets.mode_bar import ModeBar

from tui_helpers import SIZE, screen_text, wait_until


def test_every_binding_has_a_unique_id_in_its_context() -> None:
    import gsv_tui.app  # noqa: F401  (registers every screen's keys)

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
        keymap.define("mine", "Mine", [keymap.KeySpec("other.x", "x", "noop", "x")])


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
    app = GsvApp(Application(workspace=ws, config=config), project="alice", watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert any("'bogus.id' is not a binding id" in n.message for n in app._notifications)
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
