"""A person's corrections to the machine's script: a line split at a word, merged with a later line,
retimed, or moved to another speaker. Pure: each edit turns one Script into another, or raises
ScriptEditError naming the line and what to do instead.

The machine's script is rebuilt whenever its inputs change (a setting, a new transcript), so a
person's edits are kept apart, as an ordered list, and applied on top of it whenever it is read
(services.scripting). An edit remembers the words of each line it was made on: where the rebuilt
script no longer has that line saying those words, the edit is not applied to other words, and
`apply_edits` reports it with why instead of dropping it silently.

Line ids stay stable and readable. The machine numbers lines L0001, L0002 ...; splitting L0005 keeps
L0005 for the first part and names the second L0005.2 (a later split of L0005 or of L0005.2 makes
L0005.3: the next number under the machine's id that no line has had yet). A merge keeps the first
line's id and ends the second's; a retimed or moved line keeps its id. Lines nobody touched keep
theirs, and with them their translations, takes and decisions.
"""
from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, ClassVar

from .core import Line, Script
from .errors import ScriptEditError
from .script import MIN_LINE_S, join_texts, join_words


@dataclass(frozen=True)
class _Edit:
    """What every edit holds: who made it, the line it was made on and what that line said then."""

    by: str
    line_id: str
    was: str  # the line's text when the edit was made

    kind: ClassVar[str]

    def line(self, script: Script) -> Line:
        """The edited line, if the script still has it saying what it said when the edit was made."""
        return line_saying(script, self.line_id, self.was)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class Split(_Edit):
    """The line in two before its word number `at_word` (counted from 1): the first part keeps the id,
    the second is `new_id`. The cut is where that word starts, as the recogniser timed it."""

    at_word: int
    new_id: str

    kind: ClassVar[str] = "split"

    def apply(self, script: Script) -> Script:
        line = self.line(script)
        words = line.words
        if len(words) < 2:
            raise ScriptEditError(f"line {line.id} has {len(words)} timed word(s): nothing to split it at")
        if not 1 < self.at_word <= len(words):
            raise ScriptEditError(f"line {line.id} has {len(words)} word(s): split it at word 2 to {len(words)} (the "
                                  f"word the new line starts with); at word {self.at_word} one part would be empty")
        if self.new_id in {other.id for other in script.lines}:
            raise ScriptEditError(f"the script already has a line {self.new_id}: split line {line.id} again to get a free id")
        first, second = words[:self.at_word - 1], words[self.at_word - 1:]
        cut = second[0].start
        spans = ((line.start, min(first[-1].end, cut)), (cut, line.end))
        short = [f"{end - start:.2f} s" for start, end in spans if end - start < MIN_LINE_S]
        if short:
            raise ScriptEditError(f"split of line {line.id} at word {self.at_word} ({second[0].text!r}) would leave a part "
                                  f"of {short[0]}: a line lasts at least {MIN_LINE_S} s; split it at another word")
        parts = (Line(line.id, line.speaker, *spans[0], join_words(first, script.language), first),
                 Line(self.new_id, line.speaker, *spans[1], join_words(second, script.language), second))
        return with_lines(script, parts, without={line.id})

    def __str__(self) -> str:
        return f"split {self.line_id} at word {self.at_word} into {self.line_id} and {self.new_id}"


@dataclass(frozen=True)
class Merge(_Edit):
    """The line and a later one (`next_id`) as one line under the first's id, from the first's start to
    the later end; `speaker` says who speaks it when the two lines have different speakers. Lines of
    other speakers may lie between the two (an interjection); one of the merged line's own speaker
    may not, as the merged line would overlap it."""

    next_id: str
    next_was: str
    speaker: str | None = None

    kind: ClassVar[str] = "merge"

    def apply(self, script: Script) -> Script:
        first, second = self.line(script), line_saying(script, self.next_id, self.next_was)
        if second.id == first.id or second.start < first.start:
            raise ScriptEditError(f"line {second.id} does not come after {first.id}: merge a line with a later one "
                                  f"(first the earlier line, then the later)")
        merged = Line(first.id, self._speaker(first, second), first.start, max(first.end, second.end),
                      join_texts([first.text, second.text], script.language), first.words + second.words)
        return with_lines(script, (merged,), without={first.id, second.id})

    def _speaker(self, first: Line, second: Line) -> str:
        if self.speaker is None:
            if first.speaker != second.speaker:
                raise ScriptEditError(f"lines {first.id} ({first.speaker}) and {second.id} ({second.speaker}) have "
                                      f"different speakers: say which of the two speaks the merged line")
            return first.speaker
        if self.speaker not in (first.speaker, second.speaker):
            raise ScriptEditError(f"{self.speaker} speaks neither {first.id} ({first.speaker}) nor {second.id} "
                                  f"({second.speaker}): the merged line goes to one of them")
        return self.speaker

    def __str__(self) -> str:
        return f"merge {self.line_id} with {self.next_id}" + (f" as {self.speaker}" if self.speaker else "")


@dataclass(frozen=True)
class Retime(_Edit):
    """The line from `start` to `end` (seconds on the programme's clock), its words as they are."""

    start: float
    end: float

    kind: ClassVar[str] = "retime"

    def apply(self, script: Script) -> Script:
        line = self.line(script)
        if self.start < 0 or self.end > script.duration:
            raise ScriptEditError(f"line {line.id} cannot run {self.start:.2f}-{self.end:.2f} s: the programme runs "
                                  f"0-{script.duration:.2f} s; retime it inside")
        if self.end - self.start < MIN_LINE_S:
            raise ScriptEditError(f"line {line.id} would last {self.end - self.start:.2f} s ({self.start:.2f}-"
                                  f"{self.end:.2f} s): a line lasts at least {MIN_LINE_S} s; give an end after its start")
        return with_lines(script, (replace(line, start=self.start, end=self.end),), without={line.id})

    def __str__(self) -> str:
        return f"retime {self.line_id} to {self.start:.2f}-{self.end:.2f} s"


@dataclass(frozen=True)
class Move(_Edit):
    """The line given to another speaker (a diarization error), at the same time and with the same words."""

    speaker: str

    kind: ClassVar[str] = "move"

    def apply(self, script: Script) -> Script:
        line = self.line(script)
        if not self.speaker.strip() or self.speaker == line.speaker:
            raise ScriptEditError(f"line {line.id} is spoken by {line.speaker}: name another speaker to move it to")
        return with_lines(script, (replace(line, speaker=self.speaker),), without={line.id})

    def __str__(self) -> str:
        return f"move {self.line_id} to {self.speaker}"


LineEdit = Split | Merge | Retime | Move
KINDS: dict[str, type[LineEdit]] = {kind.kind: kind for kind in (Split, Merge, Retime, Move)}


def edit_from_json(data: dict[str, Any]) -> LineEdit:
    return KINDS[data["kind"]](**{name: value for name, value in data.items() if name != "kind"})


def line_saying(script: Script, line_id: str, text: str) -> Line:
    """The line `line_id`, which must still say `text`."""
    line = find_line(script, line_id)
    if line.text != text:
        raise ScriptEditError(f"line {line_id} now says {line.text!r}, not {text!r} as when the edit was made; "
                              f"edit it again as it is now")
    return line


def find_line(script: Script, line_id: str) -> Line:
    found = next((line for line in script.lines if line.id == line_id), None)
    if found is None:
        held = f"its lines run {script.lines[0].id} to {script.lines[-1].id}" if script.lines else "it has no lines"
        raise ScriptEditError(f"the script has no line {line_id}; {held} (see the exported script.json)")
    return found


def with_lines(script: Script, lines: Sequence[Line], without: Collection[str]) -> Script:
    """The script with the lines `without` names replaced by `lines`, in order of start; refused where a
    line would overlap another line of its speaker (one voice cannot say two lines at once)."""
    kept = [line for line in script.lines if line.id not in without]
    for line in lines:
        other = next((other for other in kept if other.speaker == line.speaker and other.start < line.end
                      and line.start < other.end), None)
        if other is not None:
            raise ScriptEditError(f"line {line.id} ({line.start:.2f}-{line.end:.2f} s) would overlap {other.id} "
                                  f"({other.start:.2f}-{other.end:.2f} s), which {line.speaker} also speaks: one voice "
                                  f"cannot say two lines at once; keep it clear of {other.id}")
    return replace(script, lines=tuple(sorted((*kept, *lines), key=lambda line: (line.start, line.id))))


def word_at(line: Line, seconds: float) -> int:
    """The word (counted from 1) a split at `seconds` starts the new line with: the first one starting there or later."""
    if not line.start < seconds < line.end:
        raise ScriptEditError(f"{seconds:.2f} s is outside line {line.id} ({line.start:.2f}-{line.end:.2f} s): "
                              f"split it at a time inside the line")
    later = [number for number, word in enumerate(line.words, start=1) if word.start >= seconds]
    if not later:
        raise ScriptEditError(f"no word of line {line.id} starts at {seconds:.2f} s or later: split it earlier")
    return later[0]


def new_line_id(line_id: str, taken: Collection[str]) -> str:
    """The id of a split's second part: L0005 -> L0005.2, then L0005.3 ..., the first number not `taken`."""
    base = line_id.split(".")[0]
    return next(f"{base}.{number}" for number in itertools.count(2) if f"{base}.{number}" not in taken)


@dataclass(frozen=True)
class Unapplied:
    """An edit that did not apply to the script as it is now, and why."""

    edit: LineEdit
    reason: str

    def __str__(self) -> str:
        return f"{self.edit} (by {self.edit.by}) no longer applies: {self.reason}"


@dataclass(frozen=True)
class EditedScript:
    """The machine's script with a person's edits applied in the order made, and those that did not apply."""

    script: Script
    applied: tuple[LineEdit, ...]
    unapplied: tuple[Unapplied, ...]


def apply_edits(script: Script, edits: Sequence[LineEdit]) -> EditedScript:
    """Each edit in turn on the script the ones before it left; one that no longer applies is set aside, with why."""
    applied, unapplied = [], []
    for edit in edits:
        try:
            script = edit.apply(script)
            applied.append(edit)
        except ScriptEditError as error:
            unapplied.append(Unapplied(edit, str(error)))
    return EditedScript(script, tuple(applied), tuple(unapplied))
