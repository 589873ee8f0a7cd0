"""No silent leakage: words an engine could not translate are flagged on the line, in QC and review,
and such a line is never ready without a person; a person's own text carries no flag."""
from __future__ import annotations

import pytest

from dubdesk.qc.translation import translation_check
from dubdesk.translate import TranslatedLine, translate_lines, unmarked
from dubdesk.translate.fillers import drop_fillers


@pytest.mark.fast
def test_engine_marks_are_dropped_and_unknown_words_kept():
    assert unmarked("Tuvimos una *brainstorming con #bueno y @cosa, *Zxqa.") == (
        "Tuvimos una brainstorming con bueno y cosa, Zxqa.", ["brainstorming"])  # a glossary token is no unknown
    assert unmarked("3 * 4 = 12") == ("3 * 4 = 12", [])  # a lone mark is no word's


@pytest.mark.fast
def test_the_check_fails_only_while_the_words_stand_in_the_take():
    machine = TranslatedLine("Una sesión de brainstorming.", ("brainstorming",))
    flagged = translation_check(machine, "Una sesión de brainstorming.")
    assert flagged.verdict == "fail" and "untranslated words: brainstorming" in flagged.reason
    assert translation_check(machine, "Una lluvia de ideas.").verdict == "pass"
    assert translation_check(None, "Hola.").verdict == "pass"  # a person's text
    said = translation_check(TranslatedLine("Creí oír un pitido.", (), ("you know",)), "Creí oír un pitido.")
    assert said.verdict == "pass" and "left out of the source before translating: you know" in said.reason


@pytest.mark.fast
def test_fillers_and_false_starts_are_left_out_and_said_but_meaning_is_kept():
    assert drop_fillers("I thought you know I heard a beep.", "en") == ("I thought I heard a beep.", ("you know",))
    assert drop_fillers("At least, you know, they call me a Yankee.", "en") == (
        "At least, they call me a Yankee.", ("you know",))
    assert drop_fillers("I mean, it was fine.", "en") == ("It was fine.", ("I mean",))
    assert drop_fillers("I I think so, um, maybe.", "en") == ("I think so, maybe.", ("um", "I"))
    for kept in ("You know I love you.", "Do you know the way?", "He said you know nothing.", "I know what I mean.",
                 "Bye bye.", "Um."):
        assert drop_fillers(kept, "en") == (kept, ()), kept
    assert drop_fillers("O sea, bueno.", "es") == ("O sea, bueno.", ())  # English sources only, so far


@pytest.mark.models
def test_the_embedded_route_flags_words_it_left_and_keeps_names():
    brainstorm, yankee, pivot = translate_lines(["We had a brainstorming session.", "They call me a Yankee.",
                                                 "Hey, what is up, dude?"], "en", "es")
    assert brainstorm.untranslated == ("brainstorming",) and "brainstorming" in brainstorm.text
    assert yankee.untranslated == ()  # a name the source says as it is, kept on purpose
    assert pivot.untranslated and all(word not in "Hey, what is up, dude?" for word in pivot.untranslated), \
        "a word of the Portuguese pivot reached the Spanish text, and is flagged"
