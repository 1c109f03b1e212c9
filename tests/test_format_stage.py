"""The format stage end to end on tiny random models: official layout, skips, loader read-back,
re-runs that redo only what changed, parallel workers (CPU processes standing in for GPUs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from backend.format import journal, layout  # noqa: E402
from backend.format.runner import FormatOptions, run_format  # noqa: E402
from backend.jobs.events import Reporter  # noqa: E402
from backend.models import load_sovits  # noqa: E402
from backend.models.safe_pickle import load_checkpoint  # noqa: E402
from text_records import frontend_data_or_skip  # noqa: E402
from backend.train.data import ExpFolder  # noqa: E402

from format_helpers import HUBERT_DIR, S2G_PATH, list_lines, make_clips, unpack_bert  # noqa: E402

frontend_data_or_skip()


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack_bert(tmp_path_factory.mktemp("bert"))


def _opts(root: Path, bert_dir: Path, **kw) -> FormatOptions:
    """No G2PW model can be had offline: these runs read their v2 Chinese with pypinyin, explicitly."""
    kw.setdefault("allow_pypinyin", True)
    return FormatOptions(list_path=root / "clips.list", exp_dir=root / "exp", bert_dir=bert_dir,
                         hubert_dir=HUBERT_DIR, s2g_path=S2G_PATH, threads=1, **kw)


def _write_list(root: Path, lines: list[str]) -> None:
    (root / "clips.list").write_text("\n".join(lines), encoding="utf-8")  # the official ASR: no final newline


def _run(opts: FormatOptions):
    report, events = Reporter.collect()
    return run_format(opts, report), events


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory, bert_dir: Path):
    """Four good clips plus one of every kind of bad line."""
    root = tmp_path_factory.mktemp("mixed")
    clips = make_clips(root / "clips", 4)
    short = make_clips(root / "short", 1, seconds=0.3)[0]
    broken = root / "clips" / "broken.wav"
    broken.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage")
    lines = list_lines(clips) + [
        f"{root / 'clips' / 'gone.wav'}|spk|ZH|不存在。",
        f"{clips[0]}|spk|ZH|重复的名字。",
        f"{short}|spk|EN|Too short.",
        f"{broken}|spk|EN|Broken file here.",
        f"{root / 'clips' / 'x.wav'}|spk|KO|안녕하세요",
        f"{root / 'clips' / 'y.wav'}|spk|XX|what language",
        f"{clips[1]}|spk|EN",
        f"{clips[2].with_name('copy.wav')}|spk|ZH|。。。",
    ]
    clips[2].with_name("copy.wav").write_bytes(clips[2].read_bytes())
    _write_list(root, lines)
    summary, events = _run(_opts(root, bert_dir))
    return root, clips, summary, events


def test_official_layout_and_formats(mixed) -> None:
    root, clips, summary, _ = mixed
    exp = root / "exp"
    keys = [c.name for c in clips]
    text_lines = (exp / layout.NAME2TEXT).read_text(encoding="utf-8")
    assert text_lines.endswith("\n") and not text_lines.endswith("\n\n")
    rows = [line.split("\t") for line in text_lines.splitlines()]
    assert [r[0] for r in rows] == keys and all(len(r) == 4 for r in rows)
    for i, (key, phones, word2ph, norm) in enumerate(rows):
        if i % 2 == 0:  # Chinese: word2ph list repr summing to the phones, BERT [1024, n] float32
            w2p = eval(word2ph)  # noqa: S307 - our own file, a list literal
            assert sum(w2p) == len(phones.split(" ")) == load_checkpoint(exp / "3-bert" / f"{key}.pt").shape[1]
            assert load_checkpoint(exp / "3-bert" / f"{key}.pt").shape[0] == 1024
        else:
            assert word2ph == "None" and not (exp / "3-bert" / f"{key}.pt").exists()
    sem = (exp / layout.NAME2SEMANTIC).read_text(encoding="utf-8").splitlines()
    assert sem[0] == "item_name\tsemantic_audio" and [s.split("\t")[0] for s in sem[1:]] == keys
    for key in keys:
        ssl = load_checkpoint(exp / "4-cnhubert" / f"{key}.pt")
        assert ssl.dtype == torch.float32 and ssl.shape[:2] == (1, 768)
        data = (exp / "5-wav32k" / key).read_bytes()
        assert data[:4] == b"RIFF" and int.from_bytes(data[24:28], "little") == 32000 and len(data) > 44
    assert summary.kept == 4 and summary.seconds > 5


def test_every_skip_has_its_reason(mixed) -> None:
    _, _, summary, events = mixed
    reasons = {s.key: (s.step, s.reason) for s in summary.skipped}
    assert "audio missing" in reasons["gone.wav"][1]
    assert "same clip name" in [r for k, r in reasons.items() if k.startswith("rec.wav_0000000000")][0][1]
    assert "too short" in next(r for k, (_, r) in reasons.items() if k.startswith("rec.wav") and "short" in r)
    assert reasons["broken.wav"][0] == "ssl" and "unreadable" in reasons["broken.wav"][1]
    # Korean is read since v2 has a Korean frontend: x.wav passes the text check, its audio is missing
    assert "audio missing" in reasons["x.wav"][1] and "unknown language" in reasons["y.wav"][1]
    assert any("expected 4 fields" in r for _, r in reasons.values())
    assert reasons["copy.wav"][0] == "text" and "empty phones" in reasons["copy.wav"][1]
    summ = [e for e in events if e["kind"] == "summary"][-1]["data"]
    assert summ["kept"] == 4 and len(summ["skipped"]) == len(summary.skipped) == 8
    warned = " ".join(e["text"] for e in events if e["kind"] == "message")
    assert all(k in warned for k in ("gone.wav", "broken.wav", "copy.wav"))


def test_loader_reads_the_folder_back(mixed) -> None:
    root, clips, _, _ = mixed
    exp = ExpFolder(root / "exp", "v2")
    keys = sorted(c.name for c in clips)
    assert exp.sovits_items() == keys
    assert sorted(exp.gpt_items()) == keys
    for key in keys:
        n = len(exp.phone_ids(key))
        assert exp.bert(key).shape == (1024, n)
        assert abs(len(exp.tokens(key)) - exp.ssl(key).shape[-1] / 2) <= 1
        assert exp.wav32k(key).abs().max() <= 1.0


def test_semantic_tokens_are_extract_latent(mixed) -> None:
    root, clips, _, _ = mixed
    model = load_sovits(S2G_PATH)
    exp = ExpFolder(root / "exp", "v2")
    for c in clips:
        want = model.extract_latent(exp.ssl(c.name))[0, 0].tolist()
        assert exp.tokens(c.name) == want


def test_semantic_step_matches_model_core_vectors(tmp_path: Path, bert_dir: Path) -> None:
    """``--only semantic`` on features given as a file: tokens = the recorded official codes."""
    fix = Path(__file__).parent / "fixtures" / "sovits_v2_tiny"
    with np.load(fix / "inputs.npz") as z:
        ssl = torch.from_numpy(z["ssl"])
    with np.load(fix / "extract_latent.npz") as z:
        codes = z["codes"]
    clip = make_clips(tmp_path / "clips", 1)[0]
    _write_list(tmp_path, [f"{clip}|spk|EN|Hello there."])
    layout.save_tensor(layout.hubert_path(tmp_path / "exp", clip.name), ssl)
    summary, _ = _run(_opts(tmp_path, bert_dir, only="semantic"))
    line = (tmp_path / "exp" / layout.NAME2SEMANTIC).read_text().splitlines()[1]
    assert line == f"{clip.name}\t" + " ".join(str(int(c)) for c in codes[0, 0])
    assert [s.name for s in summary.steps] == ["semantic"]


def test_rerun_redoes_only_what_changed(tmp_path: Path, bert_dir: Path) -> None:
    clips = make_clips(tmp_path / "clips", 5)
    lines = list_lines(clips)
    _write_list(tmp_path, lines)
    first, _ = _run(_opts(tmp_path, bert_dir))
    assert [(s.name, s.done, s.reused) for s in first.steps] == [("text", 5, 0), ("ssl", 5, 0), ("semantic", 5, 0)]
    again, _ = _run(_opts(tmp_path, bert_dir))
    assert [(s.done, s.reused) for s in again.steps] == [(0, 5)] * 3
    # edit a text, remove a clip, add a clip, change one clip's audio
    extra = make_clips(tmp_path / "more", 1, seed=7)[0]
    extra = extra.rename(extra.with_name("added.wav"))
    lines[1] = lines[1].rsplit("|", 1)[0] + "|Something else entirely."
    removed = clips[4].name
    lines = lines[:4] + [f"{extra}|spk|EN|A new line."]
    _write_list(tmp_path, lines)
    make_clips(tmp_path / "other", 1, seconds=2.0, seed=3)[0].replace(clips[3])
    changed, _ = _run(_opts(tmp_path, bert_dir))
    assert [(s.name, s.done) for s in changed.steps] == [("text", 2), ("ssl", 2), ("semantic", 2)]
    exp = tmp_path / "exp"
    assert not (exp / "4-cnhubert" / f"{removed}.pt").exists() and not (exp / "5-wav32k" / removed).exists()
    assert not (exp / "3-bert" / f"{removed}.pt").exists()
    assert "Something else" in (exp / layout.NAME2TEXT).read_text(encoding="utf-8")
    assert ExpFolder(exp).sovits_items() == sorted([c.name for c in clips[:4]] + [extra.name])
    # a text with nothing to pronounce drops the clip; fixing it later reuses its audio work
    good = lines[0]
    lines[0] = good.rsplit("|", 1)[0] + "|。。。"
    _write_list(tmp_path, lines)
    dropped, _ = _run(_opts(tmp_path, bert_dir))
    assert [(s.name, s.done) for s in dropped.steps] == [("text", 1), ("ssl", 0), ("semantic", 0)]
    assert dropped.kept == 4 and "empty phones" in dropped.skipped[0].reason
    assert clips[0].name not in (exp / layout.NAME2TEXT).read_text(encoding="utf-8")
    assert clips[0].name not in (exp / layout.NAME2SEMANTIC).read_text(encoding="utf-8")
    lines[0] = good
    _write_list(tmp_path, lines)
    fixed, _ = _run(_opts(tmp_path, bert_dir))
    assert [(s.name, s.done) for s in fixed.steps] == [("text", 1), ("ssl", 0), ("semantic", 0)]
    assert fixed.kept == 5
    # a version switch redoes the phones (v1 symbols), keeps the audio features
    v1, events = _run(_opts(tmp_path, bert_dir, version="v1"))
    assert [(s.name, s.done) for s in v1.steps] == [("text", 5), ("ssl", 0), ("semantic", 0)]
    assert any("version changed from v2 to v1" in e.get("text", "") for e in events)
    assert journal.read_state(exp)["version"] == "v1"


def test_parallel_workers_match_one_process(tmp_path: Path, bert_dir: Path) -> None:
    """Two CPU worker processes (standing in for two GPUs) give the files one process gives."""
    clips = make_clips(tmp_path / "clips", 4)
    _write_list(tmp_path, list_lines(clips))
    one, _ = _run(_opts(tmp_path, bert_dir))
    two_opts = _opts(tmp_path, bert_dir, devices=["cpu", "cpu"])
    two_opts.exp_dir = tmp_path / "exp2"
    two, events = _run(two_opts)
    assert two.kept == one.kept == 4
    for name in (layout.NAME2TEXT, layout.NAME2SEMANTIC):
        assert (tmp_path / "exp2" / name).read_bytes() == (tmp_path / "exp" / name).read_bytes()
    for c in clips:
        assert (tmp_path / "exp2/5-wav32k" / c.name).read_bytes() == (tmp_path / "exp/5-wav32k" / c.name).read_bytes()
        torch.testing.assert_close(load_checkpoint(tmp_path / "exp2/4-cnhubert" / f"{c.name}.pt"),
                                   load_checkpoint(tmp_path / "exp/4-cnhubert" / f"{c.name}.pt"), rtol=0, atol=1e-5)
    parts = {p.name for p in (tmp_path / "exp2" / layout.STATE_DIR).iterdir()}
    assert "ssl.jsonl" in parts and not any(".000." in p or ".001." in p for p in parts)  # compacted
    assert [e["done"] for e in events if e["kind"] == "progress" and e.get("label") == "ssl"][-1] == 4


def test_v2pro_adds_speaker_embeddings(tmp_path: Path, bert_dir: Path) -> None:
    """v2Pro: the ssl step brings 7-sv_cn/<item>.pt, the encoder's embedding of the 5-wav32k clip."""
    from backend.models.sv import ERes2NetV2, SpeakerEncoder

    torch.manual_seed(0)
    sv_ckpt = tmp_path / "sv_tiny.ckpt"
    torch.save(ERes2NetV2(m_channels=4).state_dict(), sv_ckpt)  # tiny: 10·4·32 = 1280-d embedding
    clips = make_clips(tmp_path / "clips", 2)
    _write_list(tmp_path, list_lines(clips))
    summary, _ = _run(_opts(tmp_path, bert_dir, version="v2Pro", sv_path=sv_ckpt))
    assert [s.name for s in summary.steps] == ["text", "ssl", "sv", "semantic"] and summary.kept == 2
    exp = ExpFolder(tmp_path / "exp", "v2Pro")
    encoder = SpeakerEncoder.from_checkpoint(sv_ckpt)
    for c in clips:
        emb = exp.sv(c.name)
        assert emb.shape == (1, 1280) and load_checkpoint(tmp_path / "exp/7-sv_cn" / f"{c.name}.pt").dtype == torch.float32
        torch.testing.assert_close(emb, encoder(exp.wav32k(c.name), sample_rate=32000), rtol=0, atol=1e-5)
    assert exp.sovits_items() == sorted(c.name for c in clips)
    (tmp_path / "exp/7-sv_cn" / f"{clips[0].name}.pt").unlink()
    assert ExpFolder(tmp_path / "exp", "v2Pro").sovits_items() == [clips[1].name]  # the trainer needs all four
    again, _ = _run(_opts(tmp_path, bert_dir, version="v2Pro", sv_path=sv_ckpt))
    assert [(s.name, s.done) for s in again.steps] == [("text", 0), ("ssl", 0), ("sv", 1), ("semantic", 0)]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_half_precision_like_the_official_is_half(tmp_path: Path, bert_dir: Path) -> None:
    """On a GPU the tensors are saved in fp16 (the official is_half) and the files stay readable."""
    clips = make_clips(tmp_path / "clips", 4)
    _write_list(tmp_path, list_lines(clips))
    summary, _ = _run(_opts(tmp_path, bert_dir, devices=["cuda:0", "cuda:0"]))
    assert summary.kept == 4
    exp = ExpFolder(tmp_path / "exp", "v2")
    for c in clips:
        assert load_checkpoint(tmp_path / "exp/4-cnhubert" / f"{c.name}.pt").dtype == torch.float16
        assert exp.ssl(c.name).dtype == torch.float32 and len(exp.tokens(c.name)) > 0
    assert load_checkpoint(tmp_path / "exp/3-bert" / f"{clips[0].name}.pt").dtype == torch.float16


def test_a_second_run_on_the_same_folder_is_refused(tmp_path: Path, bert_dir: Path) -> None:
    clips = make_clips(tmp_path / "clips", 1)
    _write_list(tmp_path, list_lines(clips))
    with journal.RunLock(tmp_path / "exp"):
        with pytest.raises(journal.FolderBusyError, match="another formatting run"):
            _run(_opts(tmp_path, bert_dir))
    assert not (tmp_path / "exp" / layout.NAME2TEXT).exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
def test_gpus_without_cuda_fall_back_to_cpu_workers_with_a_warning() -> None:
    from backend.stages.format import Params, devices

    report, events = Reporter.collect()
    params = Params(list_path=Path("x.list"), exp_dir=Path("exp"), gpus=["0", "1"], cpu_workers=2)
    assert devices(params, report) == ["cpu", "cpu"]
    assert "CUDA is not available" in events[-1]["text"]
