"""ASR benchmark: WER per language (FLEURS, LibriVox), word-timing error (LibriVox, MFA), RTF.

Runs the configured transcriber through the same engine registry as the workbench.
"""
from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from pathlib import Path

from ..config import Settings
from ..core import Word
from ..ingest import decode_audio
from ..transcribe import get_transcriber
from .metrics import error_counts, word_timing_errors
from .report import publish

SAMPLE_RATE = 16000
UNSPACED = {"ja", "zh"}


def _librivox_words(path: Path) -> list[Word]:
    data = json.loads(path.read_text())
    return [Word(re.sub(r"\(\d+\)$", "", w["t"]), w["b"], w["b"] + w["d"])
            for w in data["w"] if not w["t"].startswith(("<", "["))]


def _textgrid_words(path: Path) -> list[Word]:
    """The 'words' tier of a long-format Praat TextGrid."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    start = lines.index('"words"')
    count = int(lines[start + 3])
    words = []
    for index in range(count):
        begin, end, text = lines[start + 4 + 3 * index: start + 7 + 3 * index]
        if text.strip('"'):
            words.append(Word(text.strip('"'), float(begin), float(end)))
    return words


def clips(eval_dir: Path) -> list[dict]:
    """Every clip with a reference text and, where known, reference word times."""
    found = []
    for entry in map(json.loads, (eval_dir / "asr/fleurs/manifest.jsonl").read_text().splitlines()):
        found.append({"set": "fleurs", "audio": eval_dir / "asr/fleurs" / entry["audio"], "language": entry["lang"],
                      "text": entry["transcript_normalized"], "words": None})
    librivox = eval_dir / "asr/librivox"
    for file_id in (librivox / "fileids").read_text().split():
        found.append({"set": "librivox", "audio": librivox / f"{file_id}.wav", "language": "en",
                      "text": (librivox / f"{file_id}.txt").read_text(), "words": _librivox_words(librivox / f"{file_id}.json")})
    mfa = eval_dir / "asr/mfa"
    for name in ("acoustic_corpus", "cold_corpus", "cold_corpus3"):
        found.append({"set": "mfa", "audio": mfa / "wav" / f"{name}.wav", "language": "en",
                      "text": (mfa / "lab" / f"{name}.lab").read_text(), "words": _textgrid_words(mfa / "textgrid" / f"{name}.TextGrid")})
    return found


def run(settings: Settings, eval_dir: Path, out: Path, limit: int | None = None) -> dict:
    transcriber = get_transcriber(settings)
    rows, totals = [], defaultdict(lambda: [0, 0, 0.0, 0.0])
    timing: list[tuple[float, float]] = []
    for clip in clips(eval_dir)[:limit]:
        audio = decode_audio(clip["audio"], SAMPLE_RATE)
        began = time.perf_counter()
        transcript = transcriber.transcribe(audio, clip["language"])
        seconds = time.perf_counter() - began
        text = (" " if clip["language"] not in UNSPACED else "").join(w.text for w in transcript.words)
        errors, length = error_counts(clip["text"], text, by_character=clip["language"] in UNSPACED)
        row = {"set": clip["set"], "file": clip["audio"].name, "language": clip["language"],
               "wer": errors / max(length, 1), "rtf": seconds / (len(audio) / SAMPLE_RATE)}
        if clip["words"]:
            pairs = word_timing_errors(clip["words"], transcript.words)
            timing.extend(pairs)
            row["start_err_s"] = sum(p[0] for p in pairs) / max(len(pairs), 1)
            row["end_err_s"] = sum(p[1] for p in pairs) / max(len(pairs), 1)
        rows.append(row)
        total = totals[f"{clip['set']}/{clip['language']}"]
        total[0] += errors
        total[1] += length
        total[2] += seconds
        total[3] += len(audio) / SAMPLE_RATE
    summary = {f"WER {name}": t[0] / max(t[1], 1) for name, t in sorted(totals.items())}
    summary["RTF (all clips)"] = sum(t[2] for t in totals.values()) / sum(t[3] for t in totals.values())
    if timing:
        summary["word start error, mean abs (s)"] = sum(p[0] for p in timing) / len(timing)
        summary["word end error, mean abs (s)"] = sum(p[1] for p in timing) / len(timing)
        summary["timed words matched"] = len(timing)
    summary["engine"] = transcriber.identity.to_json()
    summary["settings"] = settings.transcribe.model_dump()
    publish("ASR: WER, word timing, RTF", rows, summary, out)
    return summary
