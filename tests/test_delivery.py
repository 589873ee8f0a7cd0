"""Mixdown and delivery of a short video dubbed into Spanish, and `verify` against tampering."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubdesk import watermark
from dubdesk.bench.report import family
from dubdesk.engines import EngineIdentity
from dubdesk.errors import ProjectError
from dubdesk.export.credentials import dubbing_manifest, make_project_ca, read_provenance, sign_in_place
from dubdesk.export.delivery import MANIFEST
from dubdesk.labels import AI_LABEL, bext_description, read_wav_chunk
from dubdesk.mix import ebur128
from dubdesk.services import delivery, desk, projects, speech
from dubdesk.store.models import AuditEvent, Clip, Project
from dubdesk.synth.engines import NON_COMMERCIAL_LICENCES
from dubdesk.voices.registry import ConsentError
from dubdesk.watermark import MIN_DETECT_S, Watermarker
from dubdesk.watermark import WORKER as WATERMARK_WORKER

from .conftest import REVIEWER, ffmpeg


def _problems(findings) -> list[str]:
    return [f"{f.file} {f.check}: {f.message}" for f in findings if f.ok is False]


def test_mix_is_refused_until_every_line_is_approved(ctx, reviewed, tmp_path):
    project, script, _ = reviewed
    last = script.lines[-1].id
    desk.review(ctx, project, last, "es", REVIEWER, approve=False, note="not yet")  # the delivery may have approved it
    try:
        with pytest.raises(ProjectError, match=rf"1 line\(s\) are not approved: {last}"):
            delivery.deliver(ctx, project, "es", tmp_path)
        assert not any(tmp_path.iterdir())  # nothing half-written
    finally:
        desk.review(ctx, project, last, "es", REVIEWER, approve=True, override_reason="accepted for the test")


def test_mix_meets_the_loudness_spec_by_an_independent_meter(delivered):
    manifest = json.loads((delivered / MANIFEST).read_text("utf-8"))
    mix = next(delivered.glob("* full mix.wav"))
    stem = next(delivered.glob("* dialogue stem.wav"))
    spans = [(line["start"], line["start"] + sf.info(next(delivered.glob(f"lines/{line['line']} *.wav"))).duration)
             for line in manifest["lines"]]
    dialogue = ebur128(mix, spans)
    assert abs(dialogue["integrated_lkfs"] - -27.0) <= 1.0
    assert ebur128(mix)["true_peak_dbtp"] <= -2.0
    assert ebur128(stem)["true_peak_dbtp"] <= -6.0
    info = sf.info(mix)
    assert (info.samplerate, info.subtype, info.channels) == (48000, "PCM_24", 2)


def test_the_dubbed_speech_carries_the_watermark_and_the_background_does_not(delivered, settings, ctx, tmp_path):
    watermarker = Watermarker.find(settings)
    if watermarker is None:
        pytest.skip("the watermark environment (.venv-mark, see install.sh) is not installed")
    mix, background = next(delivered.glob("* full mix.wav")), next(delivered.glob("* background.wav"))
    mp3 = tmp_path / "mix.mp3"
    ffmpeg("-i", str(mix), "-c:a", "libmp3lame", "-b:a", "128k", str(mp3))
    short = tmp_path / "short.wav"  # the mix's first 0.3 s: too short for the detector to judge either way
    audio, rate = sf.read(mix, frames=int(0.3 * 48000))
    sf.write(short, audio, rate, subtype="PCM_24")
    scores = dict(zip(("mix", "mp3", "background", "short"), watermarker.detect_many([mix, mp3, background, short]),
                      strict=True))
    assert scores["mix"] >= watermarker.threshold and scores["mp3"] >= watermarker.threshold, scores
    assert scores["background"] < watermarker.threshold and scores["short"] is None, scores
    manifest = json.loads((delivered / MANIFEST).read_text("utf-8"))
    assert manifest["watermark"]["tool"] == "resemble-perth" and manifest["watermark"]["licence"] == "MIT"
    assert mix.name in manifest["watermark"]["files"] and background.name not in manifest["watermark"]["files"]
    root = delivery.signing_identity(ctx).root.read_bytes()
    assert read_provenance(mix, root).assertions["org.dubdesk.provenance"]["watermarked"] is True
    assert read_provenance(background, root).assertions["org.dubdesk.provenance"]["watermarked"] is False


def _watermark_workers() -> set[int]:
    """This test process's running watermark workers."""
    return {pid for pid in family(os.getpid())[1:]
            if str(WATERMARK_WORKER) in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")}


def test_the_watermark_worker_stays_up_between_batches_and_is_replaced_when_it_dies(delivered, settings, monkeypatch):
    watermarker = Watermarker.find(settings)
    if watermarker is None:
        pytest.skip("the watermark environment (.venv-mark, see install.sh) is not installed")
    assert Watermarker.find(settings) is watermarker, "one watermarker per process"
    mix = next(delivered.glob("* full mix.wav"))
    marked = lambda scores: all(score >= watermarker.threshold for score in scores)  # noqa: E731
    assert marked(watermarker.detect_many([mix]))
    kept = _watermark_workers()
    assert len(kept) == 1, "the delivery's worker is the one kept"
    assert marked(watermarker.detect_many([mix])) and _watermark_workers() == kept, "the next batch loads nothing"

    with ThreadPoolExecutor(2) as pool:  # two people at once: the second does not wait for the first's batch
        assert all(marked(scores) for scores in pool.map(watermarker.detect_many, [[mix], [mix]]))
    assert _watermark_workers() == kept, "the extra worker is stopped after its batch"

    os.kill(kept.pop(), signal.SIGKILL)
    assert marked(watermarker.detect_many([mix])), "a dead worker is replaced"
    assert len(_watermark_workers()) == 1

    monkeypatch.setattr(watermark, "IDLE_S", 0.5)
    idle = Watermarker(watermarker.python)
    assert marked(idle.detect_many([mix])) and len(_watermark_workers()) == 2
    deadline = time.monotonic() + 10
    while len(_watermark_workers()) == 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(_watermark_workers()) == 1, "a worker left idle stops, giving its memory back"
    assert marked(idle.detect_many([mix])), "and the next batch starts one again"


def test_every_file_is_labelled_and_signed(delivered, ctx):
    for path in delivered.rglob("*.wav"):
        assert f"[{AI_LABEL}]" in path.name
        assert AI_LABEL in bext_description(path) and AI_LABEL in read_wav_chunk(path, b"iXML").decode()
    mix = next(delivered.glob("* full mix.wav"))
    report = read_provenance(mix, delivery.signing_identity(ctx).root.read_bytes())
    assert report.trusted
    assert report.assertions["c2pa.actions.v2"]["actions"][0]["digitalSourceType"].endswith("trainedAlgorithmicMedia")
    credential = report.assertions["org.dubdesk.provenance"]
    assert {line["approved_by"] for line in credential["lines"]} == {REVIEWER}
    assert all(line["consent_record"] and line["model"]["weights_licence"] for line in credential["lines"])
    assert (delivered / "script" / "script.srt").exists() and list((delivered / "timeline").glob("*.otio"))


@pytest.mark.fast
def test_a_wav_is_signed_by_data_hash_over_every_byte_but_its_manifest(tmp_path):
    identity = make_project_ca(tmp_path / "ca", "Sign test")
    root = identity.root.read_bytes()
    lengths = set()
    for note in ("x" * 100, "x" * 101):  # one of the two manifests has an odd length, and a RIFF pad byte
        wav = tmp_path / f"{len(note)}.wav"
        sf.write(wav, np.full((4801, 1), 0.25), 48000, subtype="PCM_24")  # an odd-sized data chunk too
        sign_in_place(wav, dubbing_manifest(wav.name, {"note": note}), identity)
        report = read_provenance(wav, root)
        assert report.trusted and report.assertions["org.dubdesk.provenance"]["note"] == note
        assert np.allclose(sf.read(wav)[0], 0.25, atol=1e-6), "the audio reads as before"
        lengths.add(len(read_wav_chunk(wav, b"C2PA")) % 2)
        with pytest.raises(ValueError, match="already carries a C2PA manifest"):
            sign_in_place(wav, dubbing_manifest(wav.name, {}), identity)
        with wav.open("r+b") as out:  # one bit of one sample
            out.seek(100)
            byte = out.read(1)
            out.seek(100)
            out.write(bytes([byte[0] ^ 1]))
        assert read_provenance(wav, root).failures == ["assertion.dataHash.mismatch"]
    assert lengths == {0, 1}


def test_the_video_gets_the_dub_as_an_extra_titled_track(delivered):
    video = next(delivered.glob("*.mp4"))
    streams = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(video)],
                                        capture_output=True, text=True, check=True).stdout)["streams"]
    audio = [s for s in streams if s["codec_type"] == "audio"]
    assert len(audio) == 2 and audio[1]["tags"]["language"] == "spa"
    assert audio[1]["tags"].get("title", audio[1]["tags"]["handler_name"]) == f"Spanish [{AI_LABEL}]"  # MP4 shows the handler name


def test_verify_passes_on_the_delivery_and_names_each_tampering(ctx, delivered, tmp_path):
    findings = delivery.verify(ctx, delivered)
    assert _problems(findings) == []
    if Watermarker.find(ctx.settings) is not None:  # every file with the dub's speech checked, in one run
        marks = {f.file: f for f in findings if f.check == "watermark"}
        short = {name for name, f in marks.items() if "too short" in f.message}
        assert all(f.ok for name, f in marks.items() if "background" not in name and name not in short) and len(marks) > 3
        assert all(marks[name].ok is None and name.startswith("L") for name in short)
        assert all(sf.info(path).duration < MIN_DETECT_S for path in delivered.glob("lines/*.wav") if path.name in short)
        background = next(f for name, f in marks.items() if "background" in name)
        assert background.ok is None and background.message == "not checked: holds no generated speech"
    copy = shutil.copytree(delivered, tmp_path / "copy")
    mix = next(copy.glob("* full mix.wav"))

    single = tmp_path / "alone" / mix.name  # a file received on its own
    single.parent.mkdir()
    shutil.copy(mix, single)
    assert _problems(delivery.verify(ctx, single)) == []

    data = bytearray(mix.read_bytes())
    offset = data.index(b"data") + 8 + 3 * 48000 * 6
    data[offset] ^= 0x01  # one sample, one bit
    mix.write_bytes(bytes(data))
    problems = _problems(delivery.verify(ctx, mix))
    assert any("c2pa" in p and "dataHash.mismatch" in p for p in problems)
    assert any("hash" in p and "changed after delivery" in p for p in problems)

    manifest = copy / MANIFEST
    manifest.write_text(manifest.read_text("utf-8").replace(REVIEWER, "Someone Else"), "utf-8")
    assert any("manifest was changed" in p for p in _problems(delivery.verify(ctx, copy)))

    remuxed = tmp_path / mix.name
    ffmpeg("-i", str(single), "-c", "copy", str(remuxed))
    assert any("no C2PA manifest" in p for p in _problems(delivery.verify(ctx, remuxed)))


def test_a_commercial_project_refuses_non_commercial_weights(ctx, reviewed, delivered, tmp_path):
    project, script, _ = reviewed
    with ctx.sessions() as session:
        clip = session.query(Clip).filter_by(project_id=project.id, line_id=script.lines[0].id).order_by(Clip.id.desc()).first()
        engine = clip.engine
        session.get(Project, project.id).commercial = True
        xtts = EngineIdentity("coqui-tts", "XTTS-v2", NON_COMMERCIAL_LICENCES["xtts"], "0.28.0")  # as XTTS records itself
        clip.engine = {**engine, **xtts.to_json()}
        session.commit()
    try:
        with pytest.raises(ProjectError, match=rf"commercial and 1 line\(s\) \({script.lines[0].id}\) come from coqui-tts"):
            delivery.deliver(ctx, projects.project(ctx, project.id), "es", tmp_path)
    finally:
        with ctx.sessions() as session:
            session.get(Project, project.id).commercial = False
            session.get(Clip, clip.id).engine = engine
            session.commit()


def test_a_consent_revoked_after_delivery_fails_verify_and_blocks_a_new_mix(home_copy, reviewed, delivered, tmp_path):
    project, _, profile = reviewed
    with home_copy.sessions() as session:
        assert session.query(Clip).filter_by(project_id=project.id, status="mixed").count() > 0
        assert session.query(AuditEvent).filter_by(project_id=project.id, action="delivered").count() == 1
    speech.revoke_voice(home_copy, profile, "actor withdrew consent", by="Delivery Voice")
    problems = _problems(delivery.verify(home_copy, delivered))
    assert any("consent revoked" in p and "actor withdrew consent" in p for p in problems)
    with pytest.raises(ConsentError, match="mix refused: .* consent revoked"):
        delivery.deliver(home_copy, projects.project(home_copy, project.id), "es", tmp_path)


def test_ducking_lowers_the_original_under_the_dub_only():
    from dubdesk.mix import MIX_RATE, duck

    bed = np.ones((MIX_RATE * 4, 2))
    ducked = duck(bed, [(1.0, 2.0)])
    assert ducked[int(1.5 * MIX_RATE), 0] == pytest.approx(10 ** (-14 / 20), rel=1e-3)
    assert ducked[int(3.5 * MIX_RATE), 0] == pytest.approx(1.0) and ducked[int(0.2 * MIX_RATE), 0] == pytest.approx(1.0)
    assert np.all(np.diff(ducked[int(0.6 * MIX_RATE):int(1.0 * MIX_RATE), 0]) <= 1e-12)  # a smooth ramp down
