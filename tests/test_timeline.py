"""Round-trip the exported timelines through the same OTIO adapters an editor's tools would use."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
import soundfile as sf

from dubdesk.export.timeline import DUB_TRACK, MIX_TRACK, TimelineClip, write_timelines

pytestmark = pytest.mark.fast

SR = 48_000
RATE = 25.0
TITLE = "Épisode 1 – «dub»"  # noqa: RUF001 (the en dash is the point)


def _wav(path: Path, seconds: float, channels: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = round(seconds * SR)
    tone = (0.1 * np.sin(2 * np.pi * 440 * np.arange(n) / SR)).astype(np.float32)
    sf.write(path, np.tile(tone[:, None], channels), SR, subtype="PCM_24")
    return path


@pytest.fixture
def lines(tmp_path: Path) -> list[TimelineClip]:
    # (start, duration): a gap at the head, two clips touching, one after a gap;
    # 1.37 s is 34.25 frames, so the first clip must be snapped, not truncated.
    spec = [(0.52, 1.37), (1.89, 0.8), (4.0, 2.04)]
    return [
        TimelineClip(
            name=f"L{i:04d} Spanish [AI beta]",
            path=_wav(tmp_path / "lines" / f"L{i:04d} es.wav", dur),
            start_s=start,
            duration_s=dur,
            speaker=f"SPK{i}",
            text=f"Línea {i}:\nhola «mundo»",
        )
        for i, (start, dur) in enumerate(spec, 1)
    ]


def _frames(seconds: float) -> int:
    return round(seconds * RATE)


def test_otio_round_trip(tmp_path: Path, lines: list[TimelineClip]) -> None:
    mix = _wav(tmp_path / "mix.wav", 8.0, channels=2)
    out = write_timelines(TITLE, lines, 8.0, RATE, tmp_path / "export", mix=mix)

    assert set(out) == {"otio", "edl", "aaf"}
    assert out["otio"].name == f"{TITLE}.otio"
    assert not list(out["otio"].parent.glob(".*.tmp"))
    assert out["otio"].stat().st_mode & stat.S_IRGRP  # not left at a temp file's 0600

    tl = otio.adapters.read_from_file(str(out["otio"]))
    assert tl.name == TITLE
    dub, mix_track = tl.tracks
    assert (dub.name, dub.kind, mix_track.name) == (DUB_TRACK, otio.schema.TrackKind.Audio, MIX_TRACK)
    assert tl.duration() == otio.opentime.RationalTime(_frames(8.0), RATE)
    clips = list(dub.find_clips())
    assert [c.name for c in clips] == [c.name for c in lines]
    for got, want in zip(clips, lines, strict=True):
        rng = got.range_in_parent()
        assert rng.start_time == otio.opentime.RationalTime(_frames(want.start_s), RATE)
        assert rng.end_time_exclusive().to_frames() == _frames(want.start_s + want.duration_s)
        assert got.metadata["dubdesk"] == {"speaker": want.speaker, "text": want.text, "label": "AI beta"}
        ref = got.media_reference
        assert not ref.target_url.startswith("file:")  # relative to the export folder
        path = out["otio"].parent / otio.url_utils.filepath_from_url(ref.target_url)
        assert path.resolve() == want.path.resolve()
        assert ref.available_range.duration.to_seconds() == pytest.approx(want.duration_s, abs=1 / SR)


def test_edl_round_trip(tmp_path: Path, lines: list[TimelineClip]) -> None:
    out = write_timelines(TITLE, lines, 8.0, RATE, tmp_path)
    text = out["edl"].read_text(encoding="utf-8")
    assert text.startswith(f"TITLE: {TITLE}\n")
    assert "\nHola" not in text and "\nhola" not in text  # multi-line dub text kept on one comment line

    tl = otio.adapters.read_from_file(str(out["edl"]), rate=RATE)  # EDLs carry no rate; default is 24
    (track,) = tl.tracks
    assert (track.name, track.kind) == ("A1", otio.schema.TrackKind.Audio)
    clips = list(track.find_clips())
    assert len(clips) == len(lines)
    for got, want in zip(clips, lines, strict=True):
        assert got.name == want.name
        # The reader stores the first record-in as a negative track start, so ask the stack.
        record_in = got.transformed_time_range(got.trimmed_range(), tl.tracks).start_time
        assert record_in.to_frames() == _frames(want.start_s)
        assert f"DUBDESK TEXT: Línea {want.name[1:5].lstrip('0')}: hola «mundo»" in got.metadata["cmx_3600"]["comments"]


def test_aaf_round_trip(tmp_path: Path, lines: list[TimelineClip]) -> None:
    mix = _wav(tmp_path / "mix.wav", 8.0, channels=2)
    out = write_timelines(TITLE, lines, 8.0, RATE, tmp_path, mix=mix)

    tl = otio.adapters.read_from_file(str(out["aaf"]))
    assert tl.name == TITLE
    audio = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Audio]
    assert len(audio) == 2
    clips = list(audio[0].find_clips())
    assert [c.name for c in clips] == [c.name for c in lines]
    for got, want in zip(clips, lines, strict=True):
        frames = _frames(want.start_s + want.duration_s) - _frames(want.start_s)
        assert got.duration() == otio.opentime.RationalTime(frames, RATE)
        assert got.range_in_parent().start_time.to_frames() == _frames(want.start_s)
        assert got.media_reference.target_url == want.path.resolve().as_uri()
        assert got.metadata["AAF"]["UserComments"]["Speaker"] == want.speaker
    assert audio[1].find_clips()[0].duration().to_frames() == _frames(8.0)


def test_unsafe_title_is_sanitised(tmp_path: Path, lines: list[TimelineClip]) -> None:
    out = write_timelines('Ep 2: "a/b"?', lines, 8.0, RATE, tmp_path)
    assert {p.name for p in out.values()} == {"Ep 2_ _a_b_.otio", "Ep 2_ _a_b_.edl", "Ep 2_ _a_b_.aaf"}
    assert otio.adapters.read_from_file(str(out["otio"])).name == 'Ep 2: "a/b"?'


def test_an_overlapping_line_goes_on_a_second_dub_track(tmp_path: Path, lines: list[TimelineClip]) -> None:
    late = TimelineClip("L0009", lines[0].path, 1.0, 1.0, "SPK9", "x")
    out = write_timelines(TITLE, [*lines, late], 8.0, RATE, tmp_path)
    tracks = otio.adapters.read_from_file(str(out["otio"])).tracks
    assert [t.name for t in tracks] == [DUB_TRACK, "Dub 2 [AI beta]"]
    assert [c.name for c in tracks[1].find_clips()] == ["L0009"]
    assert tracks[1].find_clips()[0].range_in_parent().start_time.to_frames() == _frames(1.0)


def test_failed_write_keeps_previous_file(tmp_path: Path, lines: list[TimelineClip], monkeypatch) -> None:
    first = write_timelines(TITLE, lines, 8.0, RATE, tmp_path)
    before = first["aaf"].read_bytes()

    def boom(*args, **kwargs):
        raise otio.exceptions.NotSupportedError("refused")

    from otio_aaf_adapter.adapters.aaf_adapter import aaf_writer

    monkeypatch.setattr(aaf_writer, "validate_metadata", boom)  # the AAF adapter refuses the timeline
    again = write_timelines(TITLE, lines, 8.0, RATE, tmp_path)
    assert "aaf" not in again and first["aaf"].read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
