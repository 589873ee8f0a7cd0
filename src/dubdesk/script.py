"""Build the script: words + speaker turns -> lines.

A dubbing line is a sentence of one speaker: a line breaks at a speaker change, after a sentence
end and at a long pause. A sentence longer than `max_line_s` splits only where the audio or the
wording shows a boundary (its longest pause, or a comma, colon or semicolon), never in mid-phrase
because of a count; one without any stays whole. How long a subtitle may be is the subtitle
export's concern (it splits a long line into cues). Each word takes the speaker whose turn overlaps
it most (or the nearest turn, for words that fall in a gap), so every word lands in exactly one line.
Where two turns overlap, a diarizer's turn edge can cut a sentence's first or last words off to the
other speaker ("And I'm | Sheila in Texas."): a run of words at a sentence's edge, shorter than
BOUNDARY_SLIP_S and inside a turn of the speaker who says the rest, takes that speaker.

A line lasts at least MIN_LINE_S, since every later stage divides by a line's length: a recogniser
can give a one-word line that starts and ends at the same moment. Such a line is widened at its end,
so its dub still starts where it starts, and a word that starts within MIN_LINE_S of a line's start
joins that line whoever says it, so lines start at least MIN_LINE_S apart: a widened line never
runs into the next one, and the dub's lines (and subtitle cues) never start together.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from .config import ScriptSettings
from .core import Line, Script, Span, Transcript, Turn, Word

SENTENCE_ENDS = (".", "?", "!", "…", "。", "？", "！")
PHRASE_ENDS = (",", ";", ":", "—", "–", "、", "，")
PHRASE_PAUSE_S = 0.15  # a gap between words this long is a pause the audio shows
UNSPACED_LANGUAGES = {"ja", "zh", "yue", "th", "lo", "km", "my"}
SOLE_SPEAKER = "SPEAKER_00"
# build_script's line ids, L0001 on, and a hand split's L0001.2 (script_edits); a delivered line clip's name starts with its id
LINE_ID = re.compile(r"L\d{4,}(?:\.\d+)?")
MIN_LINE_S = 0.2  # a short word's length: the least a line lasts
BOUNDARY_SLIP_S = 1.0  # at most this long, a run of words at a sentence's edge may be a slipped turn edge


def speaker_of(word: Word, turns: Sequence[Turn]) -> str:
    if not turns:
        return SOLE_SPEAKER
    best = max(turns, key=lambda t: t.span.overlap(word.span))
    if best.span.overlap(word.span) > 0:
        return best.speaker
    return min(turns, key=lambda t: min(abs(t.start - word.middle), abs(t.end - word.middle))).speaker


def join_texts(texts: Sequence[str], language: str) -> str:
    """Words (or lines) run together as the language writes them: without spaces in Japanese, Chinese, Thai ..."""
    separator = "" if language in UNSPACED_LANGUAGES else " "
    return separator.join(texts).strip()


def join_words(words: Sequence[Word], language: str) -> str:
    return join_texts([w.text for w in words], language)


def _starts_new_line(current: list[Word], speaker: str, current_speaker: str, word: Word,
                     settings: ScriptSettings) -> bool:
    if not current or word.start < current[0].start + MIN_LINE_S:
        return False
    previous = current[-1]
    return (
        speaker != current_speaker
        or previous.text.endswith(SENTENCE_ENDS)
        or word.start - previous.end >= settings.pause_break_s
    )


def _sentences(words: Sequence[Word], pause_break_s: float) -> list[range]:
    """Where each sentence is in `words` (in order of start): up to a sentence end or a long pause."""
    bounds, first = [], 0
    for index, word in enumerate(words):
        last = index + 1 == len(words)
        if last or word.text.endswith(SENTENCE_ENDS) or words[index + 1].start - word.end >= pause_break_s:
            bounds.append(range(first, index + 1))
            first = index + 1
    return bounds


def settle_speakers(words: Sequence[Word], speakers: list[str], turns: Sequence[Turn], pause_break_s: float) -> list[str]:
    """Each word's speaker, a sentence's slipped edge given to the speaker of the rest of it: an edge run
    shorter than BOUNDARY_SLIP_S and than the rest (one speaker's), overlapping one of that speaker's turns."""
    settled = list(speakers)
    for sentence in _sentences(words, pause_break_s):
        runs = _runs([speakers[i] for i in sentence], sentence.start)
        for (_, edge), rest in ((runs[0], runs[1:]), (runs[-1], runs[:-1])):
            owners = {speaker for speaker, _ in rest}
            if len(owners) != 1:
                continue
            owner, span = owners.pop(), Span(words[edge[0]].start, words[edge[-1]].end)
            said = sum(words[i].span.duration for i in edge)
            if span.duration < BOUNDARY_SLIP_S and said < sum(words[i].span.duration for _, run in rest for i in run) and \
                    any(turn.speaker == owner and turn.span.overlap(span) > 0 for turn in turns):
                settled[edge.start:edge.stop] = [owner] * len(edge)
    return settled


def _runs(speakers: list[str], offset: int) -> list[tuple[str, range]]:
    """Consecutive words of one speaker, as (speaker, where in the words)."""
    runs: list[tuple[str, range]] = []
    for index, speaker in enumerate(speakers, start=offset):
        if runs and runs[-1][0] == speaker:
            runs[-1] = (speaker, range(runs[-1][1].start, index + 1))
        else:
            runs.append((speaker, range(index, index + 1)))
    return runs


def _phrases(words: list[Word], max_line_s: float) -> list[list[Word]]:
    """A sentence as lines of at most `max_line_s` where it has boundaries to split at: the longest
    pause first (a phrase end counts as one), each part at least MIN_LINE_S apart from the next."""
    if words[-1].end - words[0].start <= max_line_s:
        return [words]
    boundaries = [(words[i + 1].start - words[i].end + (PHRASE_PAUSE_S if words[i].text.endswith(PHRASE_ENDS) else 0), i)
                  for i in range(len(words) - 1)
                  if words[i + 1].start >= words[0].start + MIN_LINE_S]
    boundaries = [(strength, i) for strength, i in boundaries if strength >= PHRASE_PAUSE_S]
    if not boundaries:
        return [words]
    _, cut = max(boundaries)
    return _phrases(words[:cut + 1], max_line_s) + _phrases(words[cut + 1:], max_line_s)


def rename_speakers(turns: Sequence[Turn]) -> list[Turn]:
    """SPEAKER_00, SPEAKER_01 ... in order of first appearance, whatever the engine called them."""
    names: dict[str, str] = {}
    for turn in sorted(turns, key=lambda t: t.start):
        names.setdefault(turn.speaker, f"SPEAKER_{len(names):02d}")
    return sorted((Turn(t.start, t.end, names[t.speaker]) for t in turns), key=lambda t: (t.start, t.speaker))


def _line_end(words: Sequence[Word]) -> float:
    """Where a line of these words (in order of start) ends: its last sound, at least MIN_LINE_S on."""
    return max(max(w.end for w in words), words[0].start + MIN_LINE_S)


def build_script(transcript: Transcript, turns: Sequence[Turn], duration: float, settings: ScriptSettings) -> Script:
    turns = rename_speakers(turns)
    language = transcript.language
    groups: list[tuple[str, list[Word]]] = []
    words = sorted(transcript.words, key=lambda w: w.start)
    speakers = settle_speakers(words, [speaker_of(word, turns) for word in words], turns, settings.pause_break_s)
    for word, speaker in zip(words, speakers):
        if not groups or _starts_new_line(groups[-1][1], speaker, groups[-1][0], word, settings):
            groups.append((speaker, []))
        groups[-1][1].append(word)
    groups = [(speaker, phrase) for speaker, words in groups for phrase in _phrases(words, settings.max_line_s)]
    lines = tuple(
        Line(f"L{index:04d}", speaker, words[0].start, _line_end(words), join_words(words, language), tuple(words))
        for index, (speaker, words) in enumerate(groups, start=1)
    )
    return Script(language, duration, lines, tuple(turns))
