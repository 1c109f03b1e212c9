"""Every key of the TUI, as data: one table, known when the app starts.

The help screen (``?``), the footers, the mode bar and the checks of ``config.toml``'s
``[keys]`` overrides all read this table, so a key can neither exist without being listed nor be
refused as unknown because its screen has not been opened yet (screens are imported lazily, on
first visit). A screen takes its bindings with ``BINDINGS = keymap.bindings("<context>")``.

A binding id is ``<context>.<name>``: the context says where the key works.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


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


def _section(context: str, title: str, specs: Iterable[KeySpec]) -> Section:
    """A section whose ids all start with ``<context>.`` and are unique (ValueError otherwise)."""
    specs = tuple(specs)
    seen: set[str] = set()
    for s in specs:
        if not s.id.startswith(context + "."):
            raise ValueError(f"binding id {s.id!r} must start with {context + '.'!r}")
        if s.id in seen:
            raise ValueError(f"binding id {s.id!r} defined twice")
        seen.add(s.id)
    return Section(context, title, specs)


MODE_ORDER = ("dataset", "transcripts", "training", "inference", "jobs")

SECTIONS: tuple[Section, ...] = (
    _section("app", "Everywhere", [
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
    ]),
    _section("dataset", "Dataset screen", [
        KeySpec("dataset.start", "ctrl+r", "start", "Slice", priority=True,
                help="Start slicing the input into the project's clips (a job)"),
        KeySpec("dataset.browse", "ctrl+o", "browse", "Browse", priority=True,
                help="Pick the input file or folder from a directory tree"),
        KeySpec("dataset.asr", "ctrl+t", "transcribe", "Transcribe", priority=True,
                help="Transcribe the project's clips into its .list (ASR job; engine by language)"),
        KeySpec("dataset.clean_panel", "ctrl+n", "toggle_clean", "Clean", priority=True,
                help="Open or fold the Clean panel (separation, de-reverb, denoise before slicing)"),
        KeySpec("dataset.clean", "ctrl+g", "clean", "Start cleaning", priority=True, show=False,
                help="Clean the project's raw/ recordings into clean/ with the panel's steps (a job)"),
        KeySpec("dataset.preview", "ctrl+y", "preview", "Preview", priority=True, show=False,
                help="Render a 10-second excerpt through the panel's steps (the input file, else raw/'s first)"),
        KeySpec("dataset.play_original", "ctrl+b", "play_preview('original')", "Play original", priority=True,
                show=False, help="Play the preview's original excerpt (locally or through the listening bridge)"),
        KeySpec("dataset.play_cleaned", "ctrl+l", "play_preview('cleaned')", "Play cleaned", priority=True,
                show=False, help="Play the preview's cleaned excerpt (locally or through the listening bridge)"),
        KeySpec("dataset.install_cleaner", "ctrl+e", "install_cleaner", "Install runner", priority=True, show=False,
                help="Install the cleaning runner (audio-separator) into gsv's environment (a job; no restart)"),
    ]),
    _section("transcripts", "Transcripts screen", [
        KeySpec("transcripts.play", "space", "play", "Play/stop"),
        KeySpec("transcripts.down", "j,down", "move(1)", "Next", show=False),
        KeySpec("transcripts.up", "k,up", "move(-1)", "Previous", show=False),
        KeySpec("transcripts.page_down", "pagedown,ctrl+d", "page(1)", "Page down", show=False),
        KeySpec("transcripts.page_up", "pageup,ctrl+u", "page(-1)", "Page up", show=False),
        KeySpec("transcripts.first", "home,g", "jump(0)", "First clip", show=False),
        KeySpec("transcripts.last", "end,G", "jump(-1)", "Last clip", show=False),
        KeySpec("transcripts.edit", "enter", "edit", "Edit"),
        KeySpec("transcripts.cancel", "escape", "cancel", "Cancel"),
        KeySpec("transcripts.language", "l", "language", "Lang"),
        KeySpec("transcripts.delete", "d", "delete", "Delete"),
        KeySpec("transcripts.merge", "m", "merge", "Merge next"),
        KeySpec("transcripts.split", "s", "split", "Split"),
        KeySpec("transcripts.reference", "r", "reference", "Use as reference"),
        KeySpec("transcripts.undo", "u", "undo", "Undo"),
        KeySpec("transcripts.redo", "ctrl+r", "redo", "Redo"),
        KeySpec("transcripts.search", "slash", "search", "Search"),
        KeySpec("transcripts.next_flagged", "n", "flagged(1)", "Next flagged"),
        KeySpec("transcripts.prev_flagged", "N", "flagged(-1)", "Previous flagged", show=False),
        KeySpec("transcripts.sort", "o", "sort", "Sort"),
        KeySpec("transcripts.autoplay", "a", "autoplay", "Auto-play on move", show=False),
        KeySpec("transcripts.restore", "t", "restore", "Restore last deleted", show=False),
        KeySpec("transcripts.open", "ctrl+o", "open_path", "Open a .list", show=False),
        KeySpec("transcripts.save", "ctrl+s", "save_now", "Save now", show=False),
    ]),
    _section("training", "Training screen", [
        KeySpec("training.fetch", "f", "fetch_models", "Fetch models",
                help="Download the chosen version's pretrained base models as a job (resumes partial files)"),
        KeySpec("training.format", "ctrl+r", "format", "Format", priority=True,
                help="Format the transcript for training (text+BERT, HuBERT+wav32k, tokens) as a job"),
        KeySpec("training.both", "b", "train('both')", "Train both",
                help="Fine-tune SoVITS, then GPT (queued after it on one GPU)"),
        KeySpec("training.sovits", "s", "train('sovits')", "SoVITS",
                help="Fine-tune SoVITS with these settings (after a finished run: offers the ways on)"),
        KeySpec("training.gpt", "g", "train('gpt')", "GPT",
                help="Fine-tune GPT with these settings (after a finished run: offers the ways on)"),
        KeySpec("training.cancel", "c", "cancel", "Cancel", help="Cancel the training job shown (asks first)"),
        KeySpec("training.resume", "r", "resume", "Resume",
                help="Continue the shown job's run from its last checkpoint; a finished run offers more "
                     "epochs, starting over, or a new run from one of the project's exports"),
        KeySpec("training.send", "i", "send_to_inference", "To inference",
                help="Open Inference with the chosen GPT + SoVITS weights (enter on a row chooses it)"),
        KeySpec("training.checkup_send", "u", "checkup_send", "Use checked pair", show=False,
                help="Open Inference with the checkup table's highlighted pair (★: the recommended one)"),
        KeySpec("training.checkup_play", "t", "checkup_play", "Play a take", show=False,
                help="Play the next evaluation take of the checkup table's highlighted pair (worst first)"),
        KeySpec("training.checkup", "k", "checkup_now", "Checkup", show=False,
                help="Score the project's exports now (a checkup job; one also follows every training run)"),
    ]),
    _section("inference", "Inference screen", [
        KeySpec("inference.generate", "ctrl+r", "generate", "Generate", priority=True,
                help="Synthesise the text with the chosen models and reference (a job)"),
        KeySpec("inference.play", "ctrl+e", "play", "Play", priority=True,
                help="Play the selected take (or stop playing)"),
        KeySpec("inference.save_as", "ctrl+s", "save_as", "Save as", priority=True,
                help="Copy the selected take (and its record) to a path of your choice"),
        KeySpec("inference.regenerate", "ctrl+g", "regenerate", "Use take", priority=True,
                help="Fill the form with the selected take's weights, parameters and seed (then ctrl+r)"),
        KeySpec("inference.takes", "ctrl+t", "focus_takes", "Takes", priority=True,
                help="Move to the list of recent takes"),
        KeySpec("inference.serve", "ctrl+o", "serve", "Serve", priority=True,
                help="Serve the voice over HTTP (api_v2-compatible) as a job, or stop it: the chosen "
                     "weights and reference; the address, a curl line and the requests show below"),
        KeySpec("inference.refresh", "ctrl+l", "refresh_lists", "Refresh", show=False, priority=True,
                help="Look again for exported weights and reviewed clips"),
    ]),
    _section("jobs", "Jobs screen", [
        KeySpec("jobs.cancel", "c", "cancel_job", "Cancel", help="Cancel the selected job (asks first)"),
        KeySpec("jobs.follow", "f", "toggle_follow", "Follow", help="Log follow mode on/off"),
        KeySpec("jobs.refresh", "r", "refresh", "Refresh",
                help="Re-check jobs now, start queued ones"),
        KeySpec("jobs.log", "l", "focus_log", "Log", help="Move to the log pane"),
        KeySpec("jobs.table", "t", "focus_table", "Table", show=False, help="Move to the jobs table"),
        KeySpec("jobs.scope", "a", "toggle_scope", "All/this", help="All projects' jobs, or the open one's"),
    ]),
    _section("picker", "Project picker", [
        KeySpec("picker.close", "escape", "close", "Close"),
        KeySpec("picker.new", "ctrl+n", "focus_new", "New project name"),
    ]),
    _section("browser", "Path browser", [
        KeySpec("browser.close", "escape", "close", "Close"),
        KeySpec("browser.folder", "f", "pick_folder", "Use folder", help="Pick the highlighted folder"),
        KeySpec("browser.up", "backspace", "go_up", "Up", help="Show the parent folder"),
    ]),
    _section("confirm", "Confirmation", [
        KeySpec("confirm.yes", "y", "answer(True)", "Yes"),
        KeySpec("confirm.no", "n,escape", "answer(False)", "No"),
    ]),
    _section("rerun", "After a finished training run", [
        KeySpec("rerun.close", "escape", "close", "Close", help="Close without starting anything"),
    ]),
    _section("conflict", "Transcript changed on disk", [
        KeySpec("conflict.merge", "m", "answer('merge')", "Merge ours on top"),
        KeySpec("conflict.reload", "r", "answer('reload')", "Reload, drop ours"),
        KeySpec("conflict.overwrite", "o", "answer('overwrite')", "Overwrite with ours"),
        KeySpec("conflict.later", "escape", "answer('later')", "Decide later"),
    ]),
    _section("help", "Help screen", [
        KeySpec("help.close", "escape,question_mark", "dismiss", "Close help"),
    ]),
)
