"""TTS benchmark: for every stock voice, speed (x real time) and intelligibility (the embedded
ASR's WER, or CER for Japanese, of the spoken line against its text), on FLORES-200 sentences, through the same
consent-checked synthesis path as a project (in a throwaway data folder)."""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import soundfile as sf

from ..audio import resample
from ..config import Settings
from ..context import Context
from ..qc.wer import transcript_errors
from ..services import projects, speech
from ..transcribe import get_transcriber
from ..voices.stock import STOCK_FILE
from .report import publish
from .translation import ISO3


def run(settings: Settings, eval_dir: Path, out: Path, sentences: int = 10, sample: Path | None = None,
        voices: str = "") -> dict:
    transcriber = get_transcriber(settings)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dubdesk-bench-tts-") as home:
        ctx = Context(settings.model_copy(update={"home": Path(home)}))
        project = projects.create_project(ctx, sample, name="tts benchmark")
        stock = [v for v in json.loads(STOCK_FILE.read_text())["voices"] if voices in v["profile_id"]]
        for voice in stock:
            language = voice["languages"][0]
            texts = (eval_dir / "translation/flores200" / f"{ISO3[language]}.txt").read_text().splitlines()[:sentences]
            errors = words = 0
            synth_s = audio_s = 0.0
            for index, text in enumerate(texts):
                began = time.perf_counter()
                clip = speech.synthesize(ctx, project, f"B{index:03d}", text, language, voice["profile_id"])
                synth_s += time.perf_counter() - began
                audio, rate = sf.read(ctx.folder(project) / clip.path, dtype="float32")
                audio_s += len(audio) / rate
                heard = transcriber.transcribe(resample(audio, rate), language)
                wrong, length = transcript_errors(text, [w.text for w in heard.words], language)
                errors, words = errors + wrong, words + length
            rows.append({"voice": voice["profile_id"], "language": language, "sentences": len(texts),
                         "x real time": synth_s / audio_s, "WER (CER for ja)": errors / words})
    publish("TTS: speed and intelligibility (embedded ASR)", rows, {"asr": transcriber.identity.to_json()}, out)
    return {"rows": rows}

