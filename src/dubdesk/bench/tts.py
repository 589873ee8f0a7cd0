"""TTS benchmark: for every stock voice, speed (x real time) and intelligibility (the embedded
ASR's WER, or CER for Japanese, of the spoken line against its text), on FLORES-200 sentences, through the same
consent-checked synthesis path as a project (in a throwaway data folder)."""
from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import resample
from ..config import Settings
from ..context import Context
from ..core import Voice
from ..engines import Speech, VoiceEngine
from ..qc.wer import transcript_errors
from ..services import projects, speech
from ..synth.engines import KokoroEngine, voice_engine
from ..synth.kokoro import ESPEAK_VOICES
from ..tools import run as run_tool
from ..transcribe import get_transcriber
from ..voices.consent import authorize
from ..voices.embedding import mean_embedding, similarity, voice_encoder
from ..voices.records import ConsentTerms, StockVoice
from ..voices.registry import ConsentRegistry
from ..voices.stock import STOCK_FILE
from .report import publish
from .translation import ISO3


def run(settings: Settings, eval_dir: Path, out: Path, sentences: int = 10, sample: Path | None = None,
        voices: str = "") -> dict:
    transcriber = get_transcriber(settings)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dubdesk-bench-tts-") as home:
        ctx = Context(settings.in_scratch_home(Path(home)))
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



# The languages where Kokoro might be offered through espeak-ng phonemes, and Pico's voice for each.
CANDIDATE_LANGUAGES = ("es", "fr", "it", "pt", "de", "en")
PICO_VOICES = {"en": "en-US", "de": "de-DE", "es": "es-ES", "fr": "fr-FR", "it": "it-IT"}
KOKORO_STYLES = ("jf_alpha", "jm_kumo")
INTELLIGIBLE_WITHOUT_PICO = 0.15  # the median WER that offers Kokoro where Pico has no voice (pt)


@dataclass(frozen=True)
class VoiceMeasure:
    """One voice speaking one language's sentences: how intelligible, how fast, how steady a speaker."""

    language: str
    engine: str
    voice: str
    sentences: int
    median_wer: float
    pooled_wer: float
    real_time: float
    consistency: float

    def row(self) -> dict:
        return {"language": self.language, "engine": self.engine, "voice": self.voice, "sentences": self.sentences,
                "median WER": self.median_wer, "pooled WER": self.pooled_wer, "x real time": self.real_time,
                "voice consistency": self.consistency}


def languages(settings: Settings, eval_dir: Path, out: Path, sentences: int = 12,
              candidates: tuple[str, ...] = CANDIDATE_LANGUAGES, styles: tuple[str, ...] = KOKORO_STYLES) -> dict:
    """Kokoro (a Japanese voice style reading espeak-ng phonemes) against Pico, per language, on FLORES
    sentences: back-transcription WER (median decides), speed, and voice consistency (how alike the
    sentences' speaker embeddings are: a voice that drifts between lines sounds like several people).
    Every voice speaks through the consent gate, as a stock voice in a throwaway data folder."""
    kokoro = KokoroEngine(settings.model_cache, languages=candidates)  # every candidate, to measure them
    measures = []
    with tempfile.TemporaryDirectory(prefix="dubdesk-bench-tts-languages-") as home:
        registry = Context(settings.in_scratch_home(Path(home))).registry
        for language in candidates:
            texts = (eval_dir / "translation/flores200" / f"{ISO3[language]}.txt").read_text().splitlines()[:sentences]
            voices = [(kokoro, style) for style in styles]
            voices += [(voice_engine("pico", settings), PICO_VOICES[language])] if language in PICO_VOICES else []
            measures += [_measure(settings, texts, language, _gated(registry, engine, voice, language)) for engine, voice in voices]
            if language not in PICO_VOICES:
                measures.append(_measure(settings, texts, language, Speaker("espeak-ng", ESPEAK_VOICES[language],
                                                                            partial(_espeak_speech, language=language))))
    offered = offered_styles(measures)
    publish("TTS: Kokoro through espeak-ng phonemes against Pico (embedded ASR)", [m.row() for m in measures],
            {"asr": get_transcriber(settings).identity.to_json(), "offered": offered}, out)
    return {"rows": [m.row() for m in measures], "offered": offered}


def offered_styles(measures: list[VoiceMeasure]) -> dict[str, list[str]]:
    """Per language, the Kokoro styles whose median WER is at most Pico's there (or, where Pico has no
    voice, at most INTELLIGIBLE_WITHOUT_PICO)."""
    offered: dict[str, list[str]] = {}
    for language in dict.fromkeys(m.language for m in measures):
        pico = next((m.median_wer for m in measures if m.language == language and m.engine == "pico"), INTELLIGIBLE_WITHOUT_PICO)
        offered[language] = [m.voice for m in measures if m.language == language and m.engine == "kokoro" and m.median_wer <= pico]
    return offered


@dataclass(frozen=True)
class Speaker:
    """A voice ready to speak a text (the consent grant, where there is one, minted per sentence)."""

    engine: str
    voice: str
    speak: Callable[[str], Speech]


def _gated(registry: ConsentRegistry, engine: VoiceEngine, voice: str, language: str) -> Speaker:
    """A voice speaking through the consent gate, registered as a stock voice for `language`."""
    record = registry.create(f"bench {engine.name} {voice} {language}", ConsentTerms((language,), uses=("*",), terms_ref="benchmark"),
                             stock=StockVoice(engine.name, voice, engine.identity.weights_licence, "benchmark"), by="benchmark")
    chosen = Voice(engine.name, voice)

    def speak(text: str) -> Speech:
        _, _, grant = authorize(registry, record.profile_id, language, "tts benchmark", "benchmark", lambda *_: chosen)
        return engine.speak(text, chosen, language, grant, record.profile_id)

    return Speaker(engine.name, voice, speak)


def _espeak_speech(text: str, language: str) -> Speech:
    """espeak-ng's own voice, the last resort where Pico has none (not a stock voice: measured only)."""
    with tempfile.TemporaryDirectory(prefix="dubdesk-bench-espeak-") as folder:
        target = Path(folder) / "line.wav"
        run_tool(["espeak-ng", "-v", ESPEAK_VOICES[language], "-w", str(target), text])
        return Speech(*sf.read(target, dtype="float32"))


def _measure(settings: Settings, texts: list[str], language: str, speaker: Speaker) -> VoiceMeasure:
    transcriber, encoder = get_transcriber(settings), voice_encoder()
    rates, embeddings, errors, words = [], [], [], []
    synth_s = audio_s = 0.0
    for text in texts:
        began = time.perf_counter()
        speech = speaker.speak(text)
        synth_s += time.perf_counter() - began
        audio_s += len(speech.audio) / speech.rate
        heard = transcriber.transcribe(resample(speech.audio, speech.rate), language)
        wrong, length = transcript_errors(text, [w.text for w in heard.words], language)
        rates.append(wrong / max(length, 1))
        errors.append(wrong)
        words.append(length)
        embeddings.append(encoder.embed(speech.audio, speech.rate))
    centre = mean_embedding(embeddings)
    return VoiceMeasure(language, speaker.engine, speaker.voice, len(texts), float(np.median(rates)), sum(errors) / sum(words),
                        synth_s / audio_s, float(np.mean([similarity(e, centre) for e in embeddings])))
