"""Word and character error counts with one text normalisation, for the intelligibility check and the
ASR and speech benchmarks alike."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import jiwer

from ..script import UNSPACED_LANGUAGES


def normalise(text: str) -> str:
    """Lower case, punctuation removed (apostrophes inside words kept), spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    text = "".join(" " if unicodedata.category(c).startswith(("P", "S")) and c != "'" else c for c in text)
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)
    return " ".join(text.split())


def error_counts(reference: str, hypothesis: str, by_character: bool = False) -> tuple[int, int]:
    """(edit errors, reference length) in words, or characters for unspaced languages."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    if by_character:
        ref, hyp = " ".join(ref.replace(" ", "")), " ".join(hyp.replace(" ", ""))
    length = len(ref.split())
    if not length or not hyp:
        return max(length, len(hyp.split())), length
    out = jiwer.process_words(ref, hyp)
    return out.substitutions + out.deletions + out.insertions, length


def transcript_errors(reference: str, words: Sequence[str], language: str) -> tuple[int, int]:
    """Errors of a transcript's words against `reference`: in words, or characters where unspaced."""
    unspaced = language in UNSPACED_LANGUAGES
    return error_counts(reference, ("" if unspaced else " ").join(words), by_character=unspaced)
