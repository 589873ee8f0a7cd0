"""Phonemes of words (espeak-ng, a GPL program run as a separate process), and where in a word the
lips close: the bilabials p, b, m (and Spanish [β], [ɸ]). Adjacent bilabials ("mb", "mp") are one
closure: the lips stay shut between them."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from .errors import DubdeskError
from .tools import run

# Languages whose words espeak-ng reads well enough to place closures (its Japanese reads no kanji).
ESPEAK_VOICES = {"en": "en-us", "es": "es", "fr": "fr-fr", "de": "de", "it": "it", "pt": "pt", "nl": "nl"}
BILABIALS = frozenset("pbmβɸ")
MARKS = frozenset("ˈˌːˑ‍‿͡-_'.,!?")  # stress, length, ties and punctuation: not phonemes of their own
WORD_CHARACTERS = re.compile(r"[^\w'’-]+")


def phoneme_units(ipa: str) -> list[str]:
    """The phoneme symbols of an IPA string, one per base letter (diacritics and marks dropped)."""
    return [c for c in unicodedata.normalize("NFD", ipa) if not c.isspace() and c not in MARKS
            and not unicodedata.combining(c)]


def closure_positions(units: Sequence[str]) -> list[float]:
    """Where each lip closure falls in a word, as a share (0-1) of its phonemes."""
    positions, index = [], 0
    while index < len(units):
        if units[index] in BILABIALS:
            first = index
            while index + 1 < len(units) and units[index + 1] in BILABIALS:
                index += 1
            positions.append((first + index + 1) / 2 / len(units))
        index += 1
    return positions


def words_phonemes(words: Sequence[str], language: str) -> list[list[str]]:
    """The phoneme symbols of each word, from one espeak-ng run (words read one to a clause)."""
    if language not in ESPEAK_VOICES:
        raise DubdeskError(f"no phonemes for '{language}': espeak-ng is used for {', '.join(ESPEAK_VOICES)}")
    voice = ESPEAK_VOICES[language]
    cleaned = [WORD_CHARACTERS.sub(" ", word).strip() for word in words]
    result = run(["espeak-ng", "-q", "--ipa=3", "-v", voice], input="".join(f"{word}.\n" for word in cleaned))
    spoken = result.stdout.splitlines()
    if len(spoken) != len(cleaned):  # a word read as two clauses: fall back to one run per word
        return [words_phonemes([word], language)[0] if len(cleaned) > 1 else phoneme_units(" ".join(spoken))
                for word in cleaned]
    return [phoneme_units(line) for line in spoken]
