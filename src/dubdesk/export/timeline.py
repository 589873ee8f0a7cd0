"""Export a dub's timeline (OTIO, CMX 3600 EDL, AAF) so editors can conform it in their NLE/DAW.

The .otio is the lossless record and is always written; the EDL and AAF are written where their
OTIO adapter plug-ins are installed and accept the timeline. See NOTES.md for the adapter quirks
that shape the code below.
"""

from __future__ import annotations

import logging
import math
import os
import re
import urllib.parse
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import opentimelineio as otio
import soundfile as sf

from ..files import atomic_write
from ..labels import AI_LABEL
from .script_files import safe_file_name

log = logging.getLogger(__name__)

DUB_TRACK = f"Dub [{AI_LABEL}]"
MIX_TRACK = f"Mix [{AI_LABEL}]"
TIMELINE_FORMATS = ("otio", "edl", "aaf")  # what write_timelines writes: the .otio always, the others where they can be
# PCM word sizes for the AAF descriptor; per-line WAVs are PCM, so anything else is a caller error.
_BITS = {"PCM_U8": 8, "PCM_S8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32, "FLOAT": 32, "DOUBLE": 64}


@dataclass(frozen=True)
class TimelineClip:
    name: str  # e.g. "L0003 Spanish [AI beta]"
    path: Path  # the per-line WAV file (48 kHz), absolute
    start_s: float  # where it sits in the programme
    duration_s: float
    speaker: str
    text: str  # the dub text, goes into clip metadata / EDL comment


def write_timelines(
    title: str,
    clips: list[TimelineClip],
    programme_s: float,
    rate: float,
    out: Path,
    mix: Path | None = None,
) -> dict[str, Path]:
    """Write <out>/<title>.otio always, plus .edl (CMX3600) and .aaf where their adapters work;
    returns {"otio": path, "edl": path, "aaf": path} for what was written.
    """
    out.mkdir(parents=True, exist_ok=True)
    stem = safe_file_name(title)
    timeline = _build(title, clips, programme_s, rate, mix, out)

    written = {"otio": out / f"{stem}.otio"}
    json = otio.adapters.write_to_string(timeline, "otio_json")
    atomic_write(written["otio"], lambda tmp: tmp.write_text(json, encoding="utf-8"))

    for kind, writer in (("edl", _write_edl), ("aaf", _write_aaf)):
        path = out / f"{stem}.{kind}"
        try:
            atomic_write(path, partial(writer, timeline.deepcopy(), rate))
        except otio.exceptions.OTIOError as err:  # plug-in missing or timeline refused
            log.warning("%s not written: %s", path.name, err)
        else:
            written[kind] = path
    return written


def _build(
    title: str, clips: list[TimelineClip], programme_s: float, rate: float, mix: Path | None, out: Path
) -> otio.schema.Timeline:
    """Lay clips on audio tracks, snapping start and end to frames so that neighbours that touch in
    seconds still touch in frames; a line that overlaps the one before goes on the next dub track
    (the EDL, one track only, holds the first)."""
    tracks: list[tuple[otio.schema.Track, list[int]]] = []
    for clip in sorted(clips, key=lambda c: c.start_s):
        start = round(clip.start_s * rate)
        free = next((entry for entry in tracks if entry[1][0] <= start), None)
        if free is None:
            name = DUB_TRACK if not tracks else f"Dub {len(tracks) + 1} [{AI_LABEL}]"
            free = (otio.schema.Track(name=name, kind=otio.schema.TrackKind.Audio), [0])
            tracks.append(free)
        track, cursor = free
        if start > cursor[0]:
            track.append(_gap(start - cursor[0], rate))
        item = _clip(clip.name, clip.path, round((clip.start_s + clip.duration_s) * rate) - start, rate, out)
        item.metadata["dubdesk"] = {"speaker": clip.speaker, "text": clip.text, "label": AI_LABEL}
        track.append(item)
        cursor[0] = start + item.duration().to_frames()
    end = round(programme_s * rate)
    timeline = otio.schema.Timeline(name=title)
    for track, cursor in tracks:
        if end > cursor[0]:
            track.append(_gap(end - cursor[0], rate))
        timeline.tracks.append(track)
    if mix is not None:
        track = otio.schema.Track(name=MIX_TRACK, kind=otio.schema.TrackKind.Audio)
        track.append(_clip(mix.stem, mix, end, rate, out))
        timeline.tracks.append(track)
    return timeline


def _clip(name: str, path: Path, frames: int, rate: float, out: Path) -> otio.schema.Clip:
    """Clip referencing the WAV; its length is capped at the file's last whole frame, since AAF
    truncates media lengths to whole frames and an NLE shows media past the file's end as offline."""
    info = sf.info(str(path))
    available = otio.opentime.RationalTime(info.frames * rate / info.samplerate, rate)
    frames = min(frames, math.floor(available.value))
    if frames < 1:
        raise ValueError(f"{name!r} is shorter than one frame at {rate} fps")
    zero = otio.opentime.RationalTime(0, rate)
    ref = otio.schema.ExternalReference(
        target_url=_relative_url(path, out), available_range=otio.opentime.TimeRange(zero, available)
    )
    ref.metadata["AAF"] = {
        "EssenceDescription": {
            "Channels": info.channels,
            "SampleRate": info.samplerate,
            "AudioSamplingRate": info.samplerate,
            "QuantizationBits": _BITS[info.subtype],
            "BlockAlign": info.channels * _BITS[info.subtype] // 8,
            "AverageBPS": info.samplerate * info.channels * _BITS[info.subtype] // 8,
        }
    }
    return otio.schema.Clip(
        name=name,
        media_reference=ref,
        source_range=otio.opentime.TimeRange(zero, otio.opentime.RationalTime(frames, rate)),
    )


def _gap(frames: int, rate: float) -> otio.schema.Gap:
    return otio.schema.Gap(duration=otio.opentime.RationalTime(frames, rate))


def _write_edl(timeline: otio.schema.Timeline, rate: float, tmp: Path) -> None:
    """The CMX writer demands exactly one enabled video track but writes only tracks[0] with that
    track's kind, so an empty video track placed after the dub track yields a true audio ("A") EDL.
    The mix is dropped: an EDL holds one track. Speaker and text ride in unhandled comments, which
    the reader hands back in metadata["cmx_3600"]["comments"]. The reel is set here because the
    writer keeps spaces in reels it derives from file names, which splits the event line's fields."""
    dub = timeline.tracks[0]
    timeline.tracks[:] = [dub, otio.schema.Track(kind=otio.schema.TrackKind.Video)]
    for clip in dub.find_clips():
        ref = clip.media_reference
        ref.target_url = otio.url_utils.filepath_from_url(ref.target_url)  # plain path, as NLEs write
        meta = clip.metadata["dubdesk"]
        clip.metadata["cmx_3600"] = {
            "reel": re.sub(r"[^A-Za-z0-9]", "", Path(ref.target_url).stem)[:8] or "AX",
            "comments": [f"DUBDESK SPEAKER: {_one_line(meta['speaker'])}", f"DUBDESK TEXT: {_one_line(meta['text'])}"],
        }
    edl = otio.adapters.write_to_string(timeline, "cmx_3600", rate=rate)
    tmp.write_text(edl, encoding="utf-8")


def _write_aaf(timeline: otio.schema.Timeline, rate: float, tmp: Path) -> None:
    """AAF locators must be absolute file URLs (the AAF reader prefixes "file://" to anything else,
    turning a relative path into a host name); speaker and text become mob comments, which Avid and
    Pro Tools show as bin columns. Empty mob IDs: the clips carry no IDs from an earlier AAF."""
    out = tmp.parent
    for clip in timeline.find_clips():
        ref = clip.media_reference
        ref.target_url = (out / otio.url_utils.filepath_from_url(ref.target_url)).resolve().as_uri()
        if "dubdesk" in clip.metadata:
            meta = clip.metadata["dubdesk"]
            clip.metadata["AAF"] = {"UserComments": {"Speaker": meta["speaker"], "Text": meta["text"], "Label": AI_LABEL}}
    _write_aaf_file(timeline, tmp)


def _write_aaf_file(timeline: otio.schema.Timeline, path: Path) -> None:
    """The AAF adapter's own writer (otio_aaf_adapter write_to_file, without its hooks), but each track's
    clips and gaps attached to the AAF sequence in one `extend`. The adapter appends them one at a time,
    and pyaaf2 re-walks every component already attached on each append: quadratic in the clips (1,000
    lines took 40 s). One extend walks them once."""
    try:
        import aaf2
        from otio_aaf_adapter.adapters.aaf_adapter import aaf_writer
    except ImportError as error:
        raise otio.exceptions.AdapterDoesntSupportFunctionError(f"the AAF adapter is not installed ({error})") from error
    with aaf2.open(str(path), "w") as handle:
        timeline = aaf_writer._stackify_nested_groups(timeline)
        aaf_writer.validate_metadata(timeline)
        transcriber = aaf_writer.AAFFileTranscriber(input_otio=timeline, aaf_file=handle, prefer_file_mob_id=False,
                                                    use_empty_mob_ids=True, embed_essence=False, create_edgecode=False)
        edit_rate = None
        for track in timeline.tracks:
            if len(track) == 0:
                continue
            track_transcriber = transcriber.track_transcriber(track)
            edit_rate = edit_rate or track_transcriber.edit_rate
            parts = [part for child in track if (part := track_transcriber.transcribe(child))]
            track_transcriber.sequence.components.extend(parts)
        if edit_rate or timeline.global_start_time:  # the timecode track DaVinci Resolve needs
            transcriber.add_timecode(timeline, edit_rate)


def _relative_url(path: Path, out: Path) -> str:
    """Relative to the output folder so the folder can move with its media; absolute where no
    relative path exists (another Windows drive)."""
    try:
        return urllib.parse.quote(Path(os.path.relpath(path, out)).as_posix())
    except ValueError:
        return path.resolve().as_uri()


def _one_line(text: str) -> str:
    """A line break in an EDL comment would start a new line, which the reader parses as an event."""
    return " ".join(text.split())
