"""The delivery: the mix and its stems, per-line clips, the dub script, a timeline, the video with
the dub as an extra track, and a manifest, every audio file labelled and signed.

Order matters. The watermark is in the audio before any of this: the mix marks the lines, and the
bed under them in the full mix, before it levels and limits them (see mix.mixdown), so the full mix,
the dialogue stem, the line clips and the video's dub track carry it and still meet their loudness
and true-peak ceilings; the background file holds no generated speech and is not marked. The tags
change the file and the C2PA signature covers both, so each file is written, tagged, then signed,
and hashed last. The package is built in a staging folder and moved into place whole: a failed
delivery leaves nothing.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import soundfile as sf

from ..audio import media_argument
from ..core import Line, LineProvenance, Script
from ..files import sha256_file, write_text
from ..labels import AI_LABEL, add_wav_chunks, bext_chunk, copy_labelled_wav, ixml_chunk
from ..mix import MIX_RATE, TARGET_LKFS, Mix, ebur128
from ..rights.disclosure import Disclosure
from ..staging import release, remove_orphans, staging_folder
from ..tools import run
from ..translate.production import LANGUAGE_NAMES
from .credentials import SigningIdentity, dubbing_manifest, sign_detached, sign_in_place
from .script_files import export_script, safe_file_name
from .timeline import TIMELINE_FORMATS, TimelineClip, write_timelines

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
DISCLOSURE = "DISCLOSURE.txt"
SCRIPT_LIST_FORMATS, SUBTITLE_FORMATS = ("json", "csv", "xlsx"), ("srt", "vtt")
DUB_SCRIPT_FORMATS = (*SCRIPT_LIST_FORMATS, *SUBTITLE_FORMATS)
# What a package holds besides its audio, video and manifest: verify checks these by their hash alone.
DOCUMENT_SUFFIXES = frozenset(f".{kind}" for kind in (*DUB_SCRIPT_FORMATS, *TIMELINE_FORMATS, "txt"))
STAGING_PREFIXES = (".delivery-", ".replaced-")  # the package being built; the one it replaces
ISO_639_2 = {"en": "eng", "es": "spa", "fr": "fra", "de": "deu", "it": "ita", "pt": "por", "ja": "jpn", "zh": "zho"}


@dataclass(frozen=True)
class DeliveredLine:
    """One approved line as it goes out, with everything its provenance names."""

    line: Line  # the source line
    text: str  # the dub's words
    start: float
    path: Path  # fitted, mono float WAV at MIX_RATE; as mixed, watermarked where the request's `watermark` says so
    frames: int
    provenance: LineProvenance

    @property
    def seconds(self) -> float:
        return self.frames / MIX_RATE


@dataclass(frozen=True)
class DeliveryRequest:
    project_name: str
    language: str
    script: Script
    lines: list[DeliveredLine]
    mix: Mix  # its files stay in place until the package is written
    background_kind: str  # "M&E" (supplied) or "background" (the original, ducked)
    original: Path
    has_video: bool
    frame_rate: float
    consents: list[dict]  # profile, actor, record hash, terms
    identity: SigningIdentity
    watermark: dict | None  # the mark's identity (Watermarker.identity) when the mix and lines carry it, else None
    disclosure: Disclosure  # who allowed this dub, why AI was used and what it did


def language_title(language: str) -> str:
    return f"{LANGUAGE_NAMES.get(language, language)} [{AI_LABEL}]"


def write_delivery(request: DeliveryRequest, out: Path) -> Path:
    """Build the package in a staging folder beside `out`, then move it into place whole."""
    name = f"{safe_file_name(request.project_name)} {request.language} [{AI_LABEL}]"
    final = out / name
    out.mkdir(parents=True, exist_ok=True)
    remove_orphans(out, STAGING_PREFIXES)
    staging = staging_folder(out, STAGING_PREFIXES[0])
    try:
        _build(request, staging, safe_file_name(request.project_name))
        if final.exists():
            retired = staging_folder(out, STAGING_PREFIXES[1])
            final.rename(retired / "old")
            staging.rename(final)
            release(retired)
        else:
            staging.rename(final)
        return final
    finally:
        release(staging)


def _build(request: DeliveryRequest, folder: Path, stem: str) -> None:
    label = language_title(request.language)
    everything = [line.provenance for line in request.lines]
    measuring = {}  # role -> its ffmpeg readings, under way
    audio_files = {
        f"{stem} {label} full mix.wav": (request.mix.full, "full mix", everything),
        f"{stem} {label} dialogue stem.wav": (request.mix.dialogue, "dialogue stem", everything),
        f"{stem} {label} {request.background_kind}.wav": (request.mix.background, request.background_kind, []),
    }
    for delivered in request.lines:
        audio_files[f"lines/{delivered.line.id} {label}.wav"] = (delivered.path, f"line {delivered.line.id}",
                                                                [delivered.provenance])
    written = list(audio_files)
    speech = [relative for relative, (_, _, lines) in audio_files.items() if _spoken(lines)]  # not the background
    with ThreadPoolExecutor(2) as meters:  # ffmpeg's readings of a finished file run beside the writing of the rest
        for relative, (source, role, lines) in audio_files.items():
            path = folder / relative
            _write_audio(request, path, source, role, lines)
            if role in ("full mix", "dialogue stem"):
                measuring[role] = {"programme": meters.submit(ebur128, path),
                                   "dialogue": meters.submit(ebur128, path, request.mix.spans)}
        written += [str(p.relative_to(folder)) for p in _write_script(request, folder / "script", stem)]
        timeline = write_timelines(f"{stem} {label}", [
            TimelineClip(f"{d.line.id} {label}", folder / f"lines/{d.line.id} {label}.wav", d.start, d.seconds,
                         d.line.speaker, d.text) for d in request.lines],
            request.script.duration, request.frame_rate, folder / "timeline", mix=folder / f"{stem} {label} full mix.wav")
        written += [str(p.relative_to(folder)) for p in timeline.values()]
        if request.has_video:
            video = folder / f"{stem} {label}{request.original.suffix.lower()}"
            _remux_video(request, folder / f"{stem} {label} full mix.wav", video)
            written.append(video.name)
            speech.append(video.name)
    mix_readings = {role: {kind: reading.result() for kind, reading in readings.items()}
                    for role, readings in measuring.items()}
    write_text(folder / DISCLOSURE, request.disclosure.text())
    written.append(DISCLOSURE)
    _write_manifest(request, folder, written, mix_readings, speech)


def _write_audio(request: DeliveryRequest, path: Path, source: Path, role: str,
                 lines: list[LineProvenance]) -> None:
    """Copy the mix's float WAV `source` to 24-bit with LIST-INFO, add bext (with the loudness the mix read
    as it wrote `source`) and iXML, sign: in that order."""
    title = f"{request.project_name} - {role} - {language_title(request.language)}"
    if lines:
        note = f"{AI_LABEL}: contains AI-generated speech from consented voice profiles; approved line by line"
        note += "; watermarked" if request.watermark and _spoken(lines) else ""
    else:
        note = f"{AI_LABEL}: the background of an AI-generated dub; no generated speech in this file, not watermarked"
    copy_labelled_wav(path, source, title, "dubdesk", note)
    reading = request.mix.readings[source]
    loudness = {"integrated_lufs": reading.integrated_lufs, "true_peak_dbtp": reading.true_peak_dbtp}
    stereo = sf.info(source).channels == 2
    add_wav_chunks(path, bext_chunk(f"{title}. {note}", "dubdesk", f"{request.language}-{role}"[:32], loudness,
                                    f"A=PCM,F={MIX_RATE},W=24,M={'stereo' if stereo else 'mono'},T=dubdesk"),
                   ixml_chunk(request.project_name, note))
    sign_in_place(path, dubbing_manifest(path.name, _credential(request, lines)), request.identity)


def _spoken(lines: list[LineProvenance]) -> bool:
    """Whether a file of these lines holds generated speech, and so the watermark: a line with no words
    is silence, in which no mark can be found."""
    return any(line.text.strip() for line in lines)


def _credential(request: DeliveryRequest, lines: list[LineProvenance]) -> dict:
    """What the C2PA manifest of one file carries: its lines, their consents, models and approvers, and the
    delivery's disclosure (the rights holder's clearance, the purpose)."""
    profiles = {line.voice_profile for line in lines}
    return {"project": request.project_name, "language": request.language, "label": AI_LABEL,
            "watermarked": bool(request.watermark and _spoken(lines)), "lines": [line.to_json() for line in lines],
            "consents": [c for c in request.consents if c["profile"] in profiles],
            "models": sorted({json.dumps(line.model, sort_keys=True) for line in lines}),
            "approvers": sorted({line.approved_by for line in lines}), "disclosure": request.disclosure.to_json()}


def _write_script(request: DeliveryRequest, folder: Path, stem: str) -> list[Path]:
    """The dub's script at the times the dub is heard: in full (JSON, dialogue lists), and as subtitles
    (SRT, VTT) of the lines with words, whose cues never overlap, since a player shows overlapping cues
    stacked or drops one."""
    heard = sorted(request.lines, key=lambda d: d.start)
    ends = [d.start + d.seconds for d in heard]
    dub = replace(request.script, language=request.language, lines=_dub_lines(heard, ends))
    shown = [(d, end) for d, end in zip(heard, ends, strict=True) if d.text.strip()]
    cue_ends = subtitle_ends([d.start for d, _ in shown], [end for _, end in shown])
    cues = replace(dub, lines=_dub_lines([d for d, _ in shown], cue_ends))
    return (export_script(dub, folder, stem, request.frame_rate, SCRIPT_LIST_FORMATS)
            + export_script(cues, folder, stem, request.frame_rate, SUBTITLE_FORMATS))


def _dub_lines(heard: list[DeliveredLine], ends: list[float]) -> tuple[Line, ...]:
    return tuple(Line(d.line.id, d.line.speaker, d.start, end, d.text) for d, end in zip(heard, ends, strict=True))


def subtitle_ends(starts: list[float], ends: list[float]) -> list[float]:
    """Each cue's end (cues in order of start): when its line stops, or when the next cue starts if sooner."""
    return [min(end, following) for end, following in zip(ends, starts[1:] + [float("inf")])]


def _remux_video(request: DeliveryRequest, mix: Path, target: Path) -> None:
    """The original, streams untouched, with the dub added as an extra, titled and tagged audio track."""
    tracks = _audio_track_count(request.original)
    title = language_title(request.language)
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", media_argument(request.original), "-i", media_argument(mix),
               "-map", "0:v", "-map", "0:a", "-map", "1:a", "-c", "copy", f"-c:a:{tracks}", "aac", f"-b:a:{tracks}", "256k",
               f"-metadata:s:a:{tracks}", f"title={title}", f"-metadata:s:a:{tracks}", f"handler_name={title}",
               f"-metadata:s:a:{tracks}", f"language={ISO_639_2.get(request.language, request.language)}",
               "-metadata", f"comment={AI_LABEL}: an added audio track holds an AI-generated dub", media_argument(target)]
    run(command)
    if target.suffix in (".mp4", ".mov", ".m4v"):
        sign_in_place(target, dubbing_manifest(target.name, _credential(request, [d.provenance for d in request.lines])),
                      request.identity)


def _audio_track_count(path: Path) -> int:
    done = run(["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries", "stream=index", "-of", "csv=p=0",
                media_argument(path)])
    return len(done.stdout.split())


def _write_manifest(request: DeliveryRequest, folder: Path, written: list[str], readings: dict, speech: list[str]) -> None:
    """Every file's SHA-256, every line's provenance, which files carry the watermark and the disclosure, signed
    with the project key (detached)."""
    manifest = {
        "tool": "dubdesk", "label": AI_LABEL, "project": request.project_name, "language": request.language,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "loudness": {"target_lkfs": TARGET_LKFS, "this_meter": request.mix.loudness(), "ffmpeg_ebur128": readings,
                     "mix_gain_db": round(request.mix.gain_db, 2)},
        "background": request.background_kind,
        "watermark": request.watermark and {**request.watermark, "files": sorted(speech)},
        "signing_certificate": request.identity.chain.read_text(),
        "disclosure": request.disclosure.to_json(), "consents": request.consents, "lines": [d.provenance.to_json() for d in request.lines],
        "files": {relative: sha256_file(folder / relative) for relative in sorted(written)},
    }
    body = json.dumps(manifest, indent=2, ensure_ascii=False)
    write_text(folder / MANIFEST, body)
    (folder / SIGNATURE).write_bytes(sign_detached(body.encode("utf-8"), request.identity))


def consent_refusal(record, language: str, title: str, use: str, day: date) -> str | None:
    """Why a line's consent does not hold for delivery today: revoked, or its terms lapsed."""
    if record.revoked:
        return f"consent revoked on {record.revoked_at:%Y-%m-%d}: {record.revocation_reason}"
    return record.terms.refusal(language, title, use, day)
