"""Scores: word-timing error and DER (pyannote.metrics); WER/CER counts live in qc.wer."""
from __future__ import annotations

import difflib
from collections.abc import Sequence

from ..core import Turn, Word
from ..qc.wer import normalise

PAUSE_S = 0.3


def word_timing_errors(reference: Sequence[Word], hypothesis: Sequence[Word]) -> list[tuple[float, float, bool]]:
    """(|start error|, |end error|, follows a pause) for each word the two sequences agree on, aligned
    by text. A word follows a pause when it is the first or comes PAUSE_S after the one before it."""
    ref_tokens = [normalise(w.text) for w in reference]
    hyp_tokens = [normalise(w.text) for w in hypothesis]
    matcher = difflib.SequenceMatcher(a=ref_tokens, b=hyp_tokens, autojunk=False)
    pairs = []
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            index = block.a + offset
            ref, hyp = reference[index], hypothesis[block.b + offset]
            after_pause = index == 0 or ref.start - reference[index - 1].end >= PAUSE_S
            pairs.append((abs(ref.start - hyp.start), abs(ref.end - hyp.end), after_pause))
    return pairs


def _annotation(turns: Sequence[Turn]):
    from pyannote.core import Annotation, Segment

    annotation = Annotation()
    for index, turn in enumerate(turns):
        annotation[Segment(turn.start, turn.end), index] = turn.speaker
    return annotation


def der_components(reference: Sequence[Turn], hypothesis: Sequence[Turn], uem: tuple[float, float] | None,
                   collar: float = 0.25) -> dict[str, float]:
    """Missed speech, false alarm, confusion and total reference speech, in seconds."""
    from pyannote.core import Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    metric = DiarizationErrorRate(collar=collar, skip_overlap=False)
    ref = _annotation(reference)
    extent = Timeline([Segment(*uem)]) if uem else ref.get_timeline().union(_annotation(hypothesis).get_timeline()).extent()
    components = metric(ref, _annotation(hypothesis), uem=extent if uem else Timeline([extent]), detailed=True)
    return {name: float(components[name]) for name in ("missed detection", "false alarm", "confusion", "total")}
