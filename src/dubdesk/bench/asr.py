"""ASR benchmark: WER per language (FLEURS, LibriVox), word-timing error (LibriVox, MFA), RTF.

Runs the configured transcriber through the same engine registry as the workbench.
"""
from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from pathlib import Path

from ..audio import RATE, decode_audio
from ..config import Settings
from ..core import Word
from ..qc.wer import transcript_errors
from ..transcribe import get_transcriber
from .metrics import word_timing_errors
from .report import publish


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


class DirectFasterWhisper:
    """faster-whisper called directly with its own defaults (beam 5, word timestamps), as a yardstick."""

    def __init__(self, transcriber) -> None:
        self.model = transcriber.model

    def transcribe(self, audio, language):
        segments, _ = self.model.transcribe(audio, language=language, beam_size=5, word_timestamps=True)
        return [Word(w.word.strip(), w.start, w.end) for s in segments for w in (s.words or [])]


def run(settings: Settings, eval_dir: Path, out: Path, limit: int | None = None, compare_direct: bool = False) -> dict:
    transcriber = get_transcriber(settings)
    direct = DirectFasterWhisper(transcriber) if compare_direct else None
    rows, totals = [], defaultdict(lambda: defaultdict(float))
    timing: list[tuple[float, float, bool]] = []
    for clip in clips(eval_dir)[:limit]:
        audio = decode_audio(clip["audio"], RATE)
        duration = len(audio) / RATE
        began = time.perf_counter()
        transcript = transcriber.transcribe(audio, clip["language"])
        seconds = time.perf_counter() - began
        errors, length = transcript_errors(clip["text"], [w.text for w in transcript.words], clip["language"])
        row = {"set": clip["set"], "file": clip["audio"].name, "language": clip["language"],
               "wer": errors / max(length, 1), "rtf": seconds / duration}
        total = totals[f"{clip['set']}/{clip['language']}"]
        if direct is not None:
            direct_errors, _ = transcript_errors(clip["text"], [w.text for w in direct.transcribe(audio, clip["language"])],
                                                 clip["language"])
            row["wer direct"] = direct_errors / max(length, 1)
            total["direct errors"] += direct_errors
        if clip["words"]:
            pairs = word_timing_errors(clip["words"], transcript.words)
            timing.extend(pairs)
            row["start_err_s"] = sum(p[0] for p in pairs) / max(len(pairs), 1)
            row["end_err_s"] = sum(p[1] for p in pairs) / max(len(pairs), 1)
        rows.append(row)
        total["errors"] += errors
        total["words"] += length
        total["seconds"] += seconds
        total["audio"] += duration
    summary: dict = {}
    for name, total in sorted(totals.items()):
        summary[f"WER {name}"] = total["errors"] / max(total["words"], 1)
        if direct is not None:
            summary[f"WER {name}, faster-whisper direct"] = total["direct errors"] / max(total["words"], 1)
    summary["RTF (all clips)"] = sum(t["seconds"] for t in totals.values()) / sum(t["audio"] for t in totals.values())
    if timing:
        summary["word start error, mean abs (s)"] = sum(p[0] for p in timing) / len(timing)
        summary["word end error, mean abs (s)"] = sum(p[1] for p in timing) / len(timing)
        summary["timed words matched"] = len(timing)
        after_pause = [p[0] for p in timing if p[2]]
        summary["start error of words after a pause, mean abs (s)"] = sum(after_pause) / max(len(after_pause), 1)
        summary["words after a pause matched"] = len(after_pause)
    summary["engine"] = transcriber.identity.to_json()
    summary["settings"] = settings.transcribe.model_dump()
    publish("ASR: WER, word timing, RTF", rows, summary, out)
    return summary
