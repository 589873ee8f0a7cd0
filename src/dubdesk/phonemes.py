"""Phonemes of words (espeak-ng, a GPL program run as a separate process): where in a word the lips
close, and how many syllables a text has.

Lip closures are the bilabials p, b, m (and Spanish [β], [ɸ]); adjacent bilabials ("mb", "mp") are
one closure: the lips stay shut between them. Syllables are counted as vowel nuclei in espeak-ng's
IPA, because speaking time follows syllables far better than letters ("Hola." and "Oh, hello." are
two and three syllables, five and ten characters)."""
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


def _ipa(clauses: Sequence[str], language: str) -> list[str]:
    """espeak-ng's IPA of each clause (words and spaces only), from one run; one run per clause where
    espeak-ng reads one as two."""
    if language not in ESPEAK_VOICES:
        raise DubdeskError(f"no phonemes for '{language}': espeak-ng is used for {', '.join(ESPEAK_VOICES)}")
    result = run(["espeak-ng", "-q", "--ipa=3", "-v", ESPEAK_VOICES[language]],
                 input="".join(f"{clause}.\n" for clause in clauses))
    spoken = result.stdout.splitlines()
    if len(spoken) != len(clauses):
        return [_ipa([clause], language)[0] if len(clauses) > 1 else " ".join(spoken) for clause in clauses]
    return spoken


def words_phonemes(words: Sequence[str], language: str) -> list[list[str]]:
    """The phoneme symbols of each word, from one espeak-ng run (words read one to a clause)."""
    return [phoneme_units(ipa) for ipa in _ipa([WORD_CHARACTERS.sub(" ", word).strip() for word in words], language)]


IPA_VOWELS = frozenset("aeiouyæɑɐɒɔəɘɚɛɜɝɞɤɨɪɯɵøœɶʉʊʌʏ")
DIPHTHONG_TIE = "\u200d"  # espeak-ng joins the two halves of a diphthong with a zero-width joiner
KANA_SMALL = frozenset("ゃゅょぁぃぅぇぉャュョァィゥェォ")
LATIN_VOWELS = frozenset("aeiouy")


def ipa_syllables(ipa: str) -> int:
    """Vowel nuclei in IPA: each run of vowels is one nucleus, unless a stress mark or a space splits it
    (Spanish "ahí" is [aˈi], two); a tied diphthong ([a‍ɪ]) is one."""
    count, previous = 0, ""
    for char in unicodedata.normalize("NFD", ipa):
        if unicodedata.combining(char) or char in "ːˑ":
            continue
        if char in IPA_VOWELS:
            count += previous not in IPA_VOWELS
        elif char != DIPHTHONG_TIE:
            char = ""
        previous = char if char != DIPHTHONG_TIE else previous
    return count


def written_syllables(text: str) -> int:
    """An estimate from the letters, for languages espeak-ng is not used for: a mora per kana (small kana
    join the one before) and two per kanji; a syllable per run of Latin vowels."""
    count, in_vowels = 0, False
    for char in text:
        name = unicodedata.name(char, "")
        if name.startswith(("HIRAGANA", "KATAKANA")) and char not in KANA_SMALL:
            count += 1
        elif name.startswith("CJK UNIFIED"):
            count += 2
        base = unicodedata.normalize("NFD", char.lower())[:1]
        count += base in LATIN_VOWELS and not in_vowels
        in_vowels = base in LATIN_VOWELS
    return count


def syllable_counts(texts: Sequence[str], language: str) -> list[int]:
    """How many syllables (morae in Japanese) each text has, as it is spoken: numbers and abbreviations
    are read out by espeak-ng, in one run for all the texts."""
    if language not in ESPEAK_VOICES:
        return [written_syllables(text) for text in texts]
    clauses = [" ".join(WORD_CHARACTERS.sub(" ", text).split()) for text in texts]
    spoken = _ipa([clause for clause in clauses if clause], language)
    counts = iter(ipa_syllables(ipa) for ipa in spoken)
    return [next(counts) if clause else 0 for clause in clauses]
