"""Degenerate input: lines of no length, no text, overlapping or too long for their slot, through every stage;
files that lie about their length, are named like options, hold no speech; silent voice references; the
leftovers of killed runs."""
from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pysubs2
import pytest
import soundfile as sf

from dubdesk.bench.main_job import clear_sample
from dubdesk.config import ScriptSettings, Settings
from dubdesk.context import Context
from dubdesk.core import Line, Transcript, Turn, Word
from dubdesk.errors import BadInputError, ProjectError
from dubdesk.script import MIN_LINE_S, build_script
from dubdesk.services import checks, delivery, desk, fitting, pipeline, projects, scripting, speech
from dubdesk.staging import release, staging_folder

from .conftest import ROOT, SAMPLE, ffmpeg

LANGUAGE, VOICE, REVIEWER = "es", "stock-pico-es-es", "Rita Reviewer"
CHECKS = {"translation", "technical", "intelligibility", "timing", "av_sync", "labials", "emotion", "voice"}
LONG = "This very long sentence is said in far too little time to ever fit in it."
WORDS = (
    Word("Hello", 1.0, 1.4), Word("there.", 1.5, 2.0),
    Word("Yes.", 3.0, 3.0),  # L0002: a one-word line that starts and ends at the same moment
    Word("", 4.0, 4.5),  # L0003: nothing to say
    Word("I", 6.0, 6.3), Word("overlap", 6.3, 6.6), Word("you.", 6.6, 7.0),  # L0004, overlapped by L0005
    Word("Interrupting", 6.8, 7.2), Word("now.", 7.2, 7.6),
    Word(LONG, 10.0, 10.4),  # L0006: far longer than its slot, and the same speaker's L0007 follows
    Word("End.", 10.6, 11.0),
)
TURNS = [Turn(0.5, 5.0, "A"), Turn(5.8, 7.0, "B"), Turn(6.8, 7.8, "C"), Turn(9.5, 12.0, "B")]


@pytest.fixture(scope="module")
def degenerate(ctx, make_media):
    """A 12 s programme with an imported transcript of degenerate lines, taken through every stage up to
    review with the cheapest real engines (Apertium, Pico, Rubber Band, the QC models)."""
    project = projects.create_project(ctx, make_media("degenerate.wav", seconds=12.0), name="degenerate")
    script = scripting.import_transcript(ctx, project, Transcript("en", 1.0, WORDS), TURNS, "degenerate lines for a test")
    report = pipeline.prepare_dub(ctx, project, LANGUAGE, VOICE)
    assert not report.refused
    clear_sample(ctx, project, LANGUAGE, SAMPLE)
    return project, script, report.results


@pytest.mark.fast
def test_a_line_cannot_be_built_without_length():
    with pytest.raises(ValueError, match="L0001 has no length"):
        Line("L0001", "SPEAKER_00", 3.0, 3.0, "Yes.")


@pytest.mark.fast
def test_the_script_widens_a_line_of_no_length_and_starts_lines_apart():
    words = (Word("Yes.", 3.0, 3.0), Word("No.", 3.05, 3.1), Word("Right.", 5.0, 5.0), Word("Good.", 5.3, 5.6))
    turns = [Turn(2.9, 3.03, "A"), Turn(3.03, 3.2, "B"), Turn(4.9, 6.0, "A")]
    script = build_script(Transcript("en", 1.0, words), turns, 8.0, ScriptSettings())
    assert [(line.text, line.start, line.end) for line in script.lines] == [
        ("Yes. No.", 3.0, 3.2),  # "No." starts 50 ms in: it joins the line, whoever says it
        ("Right.", 5.0, 5.0 + MIN_LINE_S), ("Good.", 5.3, 5.6)]


def test_every_stage_survives_degenerate_lines(ctx, degenerate):
    project, script, results = degenerate
    assert [line.text for line in script.lines] == [
        "Hello there.", "Yes.", "", "I overlap you.", "Interrupting now.", LONG, "End."]
    assert all(line.duration >= MIN_LINE_S - 1e-9 for line in script.lines)
    assert script.lines[3].end > script.lines[4].start, "the test needs two overlapping lines"
    assert set(results) == {line.id for line in script.lines}
    assert all({result.check for result in checks} == CHECKS for checks in results.values())
    fits = fitting.fits(ctx, project, LANGUAGE)
    assert set(fits) == set(results)
    assert fits["L0002"].source_s == pytest.approx(MIN_LINE_S)
    assert (fits["L0003"].rate, fits["L0003"].fitted_s, fits["L0003"].fits) == (1.0, pytest.approx(0.5), True)  # silence
    assert not fits["L0006"].fits


def test_delivery_refuses_a_line_running_into_its_speakers_next_line(ctx, degenerate, tmp_path):
    project, script, _ = degenerate
    for line in script.lines:
        desk.review(ctx, project, line.id, LANGUAGE, REVIEWER, approve=True, override_reason="accepted for the test")
    with pytest.raises(ProjectError, match=r"1 line\(s\) would run into the same speaker's next line \(L0006 into L0007 by"):
        delivery.deliver(ctx, project, LANGUAGE, tmp_path)
    assert not any(tmp_path.iterdir())


def _left_by_a_dead_process(parent: Path, prefix: str) -> Path:
    """A staging folder whose owner process has exited without removing it."""
    made = subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from dubdesk.staging import "
                           "staging_folder; print(staging_folder(Path(sys.argv[1]), sys.argv[2]))", str(parent), prefix],
                          capture_output=True, text=True, check=True)
    return Path(made.stdout.strip())


def test_delivered_subtitles_never_overlap_and_a_killed_delivery_is_cleared(ctx, degenerate, tmp_path):
    """L0006 spoken again short enough; L0004 spoken again long enough to run on past L0005's start (which
    interrupts it). The half package and the retired one a dead delivery left are removed; one still being
    built is not."""
    project, script, _ = degenerate
    leftovers = [_left_by_a_dead_process(tmp_path, prefix) for prefix in (".delivery-", ".replaced-")]
    in_use = staging_folder(tmp_path, ".delivery-")
    speech.synthesize(ctx, project, "L0006", "Es largo.", LANGUAGE, VOICE)
    with pytest.raises(ProjectError, match=r"1 line\(s\) not fitted yet \(L0006\)"):  # QC judges what will be heard
        checks.qc(ctx, project, LANGUAGE)
    fitting.fit_line(ctx, project, script, "L0006", LANGUAGE)
    speech.synthesize(ctx, project, "L0004", "Yo me superpongo a usted, sí.", LANGUAGE, VOICE)
    fitting.fit_line(ctx, project, script, "L0004", LANGUAGE)
    checks.qc(ctx, project, LANGUAGE)
    for line_id in ("L0004", "L0006"):
        desk.review(ctx, project, line_id, LANGUAGE, REVIEWER, approve=True, override_reason="accepted for the test")
    package = delivery.deliver(ctx, project, LANGUAGE, tmp_path)
    heard = json.loads((package / "script" / "script.json").read_text())["lines"]
    assert len(heard) == len(script.lines)
    assert any(line["end"] > later["start"] for line, later in zip(heard, heard[1:])), "no overlap left to test"
    cues = pysubs2.load(str(package / "script" / "script.srt"))
    assert len(cues) == len(script.lines) - 1  # the line with nothing said has no cue
    assert all(cue.end <= later.start for cue, later in zip(cues, cues[1:]))
    assert [f"{f.file} {f.check}: {f.message}" for f in delivery.verify(ctx, package) if f.ok is False] == []
    assert not any(folder.exists() for folder in leftovers) and in_use.is_dir()
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([package.name, in_use.name, in_use.name + ".owner"])
    release(in_use)


def _understated_mkv(folder: Path, seconds: float, declared: float) -> Path:
    """`seconds` of the sample in Matroska whose header declares `declared` seconds."""
    path = folder / "understated.mkv"
    ffmpeg("-i", str(SAMPLE), "-t", str(seconds), "-c:a", "flac", str(path))
    data = bytearray(path.read_bytes())
    at = data.index(b"\x44\x89\x88") + 3  # Segment Info > Duration, an 8-byte float in milliseconds
    data[at:at + 8] = struct.pack(">d", declared * 1000)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.fast
def test_a_file_declaring_less_than_it_holds_is_measured_by_decoding(tmp_path):
    ctx = Context(Settings(home=tmp_path / "home").with_overrides(ingest={"max_duration_s": 20.0}))
    with pytest.raises(BadInputError, match=r"too long: more than 0.3 min of audio \(it declares 0.1 min\)"):
        projects.create_project(ctx, _understated_mkv(tmp_path, 30.0, 8.0))
    assert list((tmp_path / "home").rglob("*.wav")) == [] and projects.projects(ctx) == []


@pytest.mark.fast
def test_a_file_named_like_an_option_is_ingested(tmp_path, monkeypatch, make_media):
    (tmp_path / "-i.wav").write_bytes(make_media("short.wav", seconds=4.0).read_bytes())
    monkeypatch.chdir(tmp_path)
    project = projects.create_project(Context(Settings(home=tmp_path / "home")), Path("-i.wav"))
    assert project.source_name == "-i.wav" and project.media["duration_s"] == pytest.approx(4.0, abs=0.05)


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dubdesk", *args, "--home", str(home)], capture_output=True, text=True,
                          cwd=ROOT)


def test_a_programme_without_speech_says_so(tmp_path):
    tone = tmp_path / "tone.wav"
    sf.write(tone, 0.3 * np.sin(2 * np.pi * 440 * np.arange(16000 * 6) / 16000), 16000)
    result = run_cli("transcribe", str(tone), "--out", str(tmp_path / "out"), home=tmp_path / "home")
    assert result.returncode == 2
    assert "tone.wav: no speech found" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_voices_add_refuses_a_silent_reference_as_the_portal_does(tmp_path):
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000 * 5), 16000)
    result = run_cli("voices", "add", "--actor", "Quiet Actor", "--language", "es", "--reference", str(silent),
                     home=tmp_path / "home")
    assert result.returncode == 2 and "silent.wav: too quiet" in result.stderr
    assert "Quiet Actor" not in run_cli("voices", "list", home=tmp_path / "home").stdout


def test_a_killed_ingest_leaves_a_folder_the_next_ingest_removes(tmp_path, make_media):
    """A real `dubdesk new` killed while it stages a 10-minute programme; a folder still in use stays."""
    home, long = tmp_path / "home", tmp_path / "long.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=220:duration=600", "-ar", "16000", str(long))
    process = subprocess.Popen([sys.executable, "-m", "dubdesk", "new", str(long), "--home", str(home)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while not list(home.glob("projects/.ingest-*/working.wav")) and time.time() < deadline and process.poll() is None:
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    [killed] = [path for path in home.glob("projects/.ingest-*") if path.is_dir()]
    in_use = staging_folder(home / "projects", ".ingest-")
    projects.create_project(Context(Settings(home=home)), make_media("short.wav", seconds=4.0))
    assert not killed.exists() and not killed.with_name(killed.name + ".owner").exists()
    assert in_use.is_dir() and len(list((home / "projects").iterdir())) == 3  # the new project, in_use and its marker
    release(in_use)
