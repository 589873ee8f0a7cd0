"""No silent leakage: words an engine could not translate are flagged on the line, in QC and review,
and such a line is never ready without a person; a person's own text carries no flag."""
from __future__ import annotations

import pytest

from dubdesk.qc.translation import translation_check
from dubdesk.translate import translate_lines, unmarked


@pytest.mark.fast
def test_engine_marks_are_dropped_and_unknown_words_kept():
    assert unmarked("Tuvimos una *brainstorming con #bueno y @cosa, *Zxqa.") == (
        "Tuvimos una brainstorming con bueno y cosa, Zxqa.", ["brainstorming"])  # a glossary token is no unknown
    assert unmarked("3 * 4 = 12") == ("3 * 4 = 12", [])  # a lone mark is no word's


@pytest.mark.fast
def test_the_check_fails_only_while_the_words_stand_in_the_take():
    flagged = translation_check(("brainstorming",), "Una sesión de brainstorming.")
    assert flagged.verdict == "fail" and "untranslated words: brainstorming" in flagged.reason
    assert translation_check(("brainstorming",), "Una lluvia de ideas.").verdict == "pass"
    assert translation_check((), "Hola.").verdict == "pass"


@pytest.mark.models
def test_the_embedded_route_flags_words_it_left_and_keeps_names():
    brainstorm, yankee, pivot = translate_lines(["We had a brainstorming session.", "They call me a Yankee.",
                                                 "Hey, what is up, dude?"], "en", "es")
    assert brainstorm.untranslated == ("brainstorming",) and "brainstorming" in brainstorm.text
    assert yankee.untranslated == ()  # a name the source says as it is, kept on purpose
    assert pivot.untranslated and all(word not in "Hey, what is up, dude?" for word in pivot.untranslated), \
        "a word of the Portuguese pivot reached the Spanish text, and is flagged"
