"""Speech fillers and false starts left out of a source line before the embedded route translates it.

A rule-based route translates "I thought you know I heard a beep" word for word, filler and all, and
the dub comes out longer and stranger than the line. What is left out: hesitations (uh, um), "you
know" and "I mean" used as fillers (set off by commas, or in mid-sentence after a word that is not
asking or telling what someone knows or means), and a word said twice in a row ("I I think"). Each
line records what was left out, so review can say so. English sources only, so far.
"""
from __future__ import annotations

import re

HESITATIONS = r"uh|uhm|um|umm|er|erm|ah|hmm|mm"
# words after which "you know" / "I mean" say what they say (do you know, what I mean, if you know ...)
MEANT_AFTER = {"do", "did", "does", "don't", "didn't", "doesn't", "if", "what", "how", "as", "that", "whether", "who",
               "where", "when", "why", "and", "but", "or", "because"}
REPEATS_KEPT = {"that", "had", "is", "very", "so", "no", "bye", "yeah", "ha"}
RULES_VERSION = "fillers 1"  # a stage input: changing the rules translates again

_HESITATION = re.compile(rf"(?i)(^|[\s,])(?:{HESITATIONS})(?=[\s,.!?]|$)[,]?")
_SET_OFF = re.compile(r"(?i),\s*(you know|i mean)\s*,")
_LEADING = re.compile(r"(?i)^(you know|i mean)\s*,\s*")
_TRAILING = re.compile(r"(?i),\s*(you know|i mean)(?=\s*[.!?]?\s*$)")
_MID = re.compile(r"(?i)\b([\w']+) (you know) (?=(?:i|he|she|we|they)\b)")  # "thought you know I heard"
_REPEAT = re.compile(r"(?i)\b([\w']+)(\s+\1\b)+")


def drop_fillers(text: str, language: str) -> tuple[str, tuple[str, ...]]:
    """`text` without its fillers, and what was left out (in order, as said)."""
    if language != "en" or not text.strip():
        return text, ()
    said, dropped = text, []

    def cut(found: str, replacement: str = "") -> str:
        dropped.append(found)
        return replacement

    text = _HESITATION.sub(lambda m: cut(m.group(0).strip(" ,"), m.group(1) if m.group(1) != "," else ","), text)
    text = _SET_OFF.sub(lambda m: cut(m.group(1), ","), text)
    text = _LEADING.sub(lambda m: cut(m.group(1)), text)
    text = _TRAILING.sub(lambda m: cut(m.group(1)), text)
    text = _MID.sub(lambda m: m.group(0) if m.group(1).lower() in MEANT_AFTER else m.group(1) + cut(m.group(2), " "),
                    text)
    text = _REPEAT.sub(lambda m: m.group(0) if m.group(1).lower() in REPEATS_KEPT else cut(m.group(2).strip(), m.group(1)),
                       text)
    tidy = re.sub(r"\s+([,.!?])", r"\1", re.sub(r"\s{2,}", " ", text)).strip(" ,")
    tidy = re.sub(r",([.!?])", r"\1", tidy)
    if not re.search(r"\w", tidy):  # nothing but a filler: a sound the dub makes too
        return said, ()
    return (tidy[:1].upper() + tidy[1:] if said[:1].isupper() else tidy), tuple(dropped)
