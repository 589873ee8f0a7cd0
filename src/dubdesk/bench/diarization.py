"""Diarization benchmark: DER (collar 0.25 s, UEM where given) on the pyannote sample and
the AMI excerpts, with the RTF of diarization and of transcription on the same clips.
"""
from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

from ..audio import RATE, decode_audio
from ..config import Settings
from ..core import Turn
from ..diarize import get_diarizer
from ..transcribe import get_transcriber
from .metrics import der_components
from .report import publish


def read_rttm(path: Path) -> dict[str, list[Turn]]:
    turns: dict[str, list[Turn]] = defaultdict(list)
    for line in path.read_text().splitlines():
        fields = line.split()
        if fields and fields[0] == "SPEAKER":
            start, duration = float(fields[3]), float(fields[4])
            turns[fields[1]].append(Turn(start, start + duration, fields[7]))
    return turns


def read_uem(path: Path) -> dict[str, tuple[float, float]]:
    return {f[0]: (float(f[2]), float(f[3])) for f in (line.split() for line in path.read_text().splitlines()) if f}


def items(eval_dir: Path) -> list[dict]:
    """(set, audio, reference turns, UEM) for every evaluation file."""
    root = eval_dir / "diarization"
    found = [{"set": "pyannote_sample", "audio": root / "pyannote_sample/sample.wav",
              "reference": read_rttm(root / "pyannote_sample/sample.rttm")["sample"], "uem": None}]
    for split in ("train", "development"):
        references, uems = read_rttm(root / f"ami/{split}.rttm"), read_uem(root / f"ami/{split}.uem")
        for uri in (root / f"ami/{split}.lst").read_text().split():
            found.append({"set": "ami", "audio": root / f"ami/{uri}.wav", "reference": references[uri], "uem": uems.get(uri)})
    return found


def _timed(call):
    began = time.perf_counter()
    result = call()
    return result, time.perf_counter() - began


def run(settings: Settings, eval_dir: Path, out: Path, with_asr: bool = True) -> dict:
    diarizer = get_diarizer(settings)
    transcriber = get_transcriber(settings) if with_asr else None
    config = settings.diarize
    rows, totals = [], defaultdict(lambda: defaultdict(float))
    for item in items(eval_dir):
        audio = decode_audio(item["audio"], RATE)
        duration = len(audio) / RATE
        turns, diarize_s = _timed(lambda a=audio: diarizer.diarize(a, config.num_speakers, config.min_speakers,
                                                                   config.max_speakers))
        parts = der_components(item["reference"], turns, item["uem"])
        row = {"set": item["set"], "file": item["audio"].name,
               "speakers ref/hyp": f"{len({t.speaker for t in item['reference']})}/{len({t.speaker for t in turns})}",
               "DER": (parts["missed detection"] + parts["false alarm"] + parts["confusion"]) / parts["total"],
               "miss": parts["missed detection"] / parts["total"], "false alarm": parts["false alarm"] / parts["total"],
               "confusion": parts["confusion"] / parts["total"], "diarize RTF": diarize_s / duration}
        total = totals[item["set"]]
        if transcriber is not None:
            _, asr_s = _timed(lambda a=audio: transcriber.transcribe(a, None))
            row["transcribe RTF"] = asr_s / duration
            row["both RTF"] = (asr_s + diarize_s) / duration
            total["asr_s"] += asr_s
        for name, value in parts.items():
            total[name] += value
        total["diarize_s"] += diarize_s
        total["audio_s"] += duration
        rows.append(row)
    summary: dict = {}
    for name, total in totals.items():
        errors = total["missed detection"] + total["false alarm"] + total["confusion"]
        summary[f"DER {name} (aggregate)"] = errors / total["total"]
    audio_s = sum(t["audio_s"] for t in totals.values())
    summary["diarize RTF"] = sum(t["diarize_s"] for t in totals.values()) / audio_s
    if transcriber is not None:
        summary["transcribe RTF"] = sum(t["asr_s"] for t in totals.values()) / audio_s
        summary["transcribe + diarize RTF"] = summary["transcribe RTF"] + summary["diarize RTF"]
    summary["engine"] = diarizer.identity.to_json()
    summary["settings"] = config.model_dump()
    publish("Diarization: DER (collar 0.25 s), RTF", rows, summary, out)
    return summary
