"""A person's fixes to the script: lines split at a word, merged, retimed and moved to another speaker,
refused where they cannot be made, kept through every rebuild of the script, and a dub run again
after one keeps what it did not touch."""
from __future__ import annotations

import os
import subprocess
from dataclasses import replace

import pytest
from sqlalchemy import select

from dubdesk.config import Settings
from dubdesk.context import Context
from dubdesk.core import Transcript, Turn, Word
from dubdesk.errors import ScriptEditError
from dubdesk.services import desk, lines, pipeline, projects, scripting, speech, translation
from dubdesk.store import StageRun
from dubdesk.store.models import AuditEvent

from .conftest import SAMPLE
from .test_pipeline import DUBDESK, ROOT

LANGUAGE, VOICE, EDITOR, REVIEWER = "es", "stock-pico-es-es", "Ana Editor", "Rita Reviewer"
A, B = "SPEAKER_00", "SPEAKER_01"  # the speakers in order of first appearance
SAID = (  # speaker, sentence, first word's start: L0001 .. L0004
    ("a", "Good morning, everyone.", 1.0),
    ("b", "We start the meeting now and end it at noon.", 3.0),
    ("a", "Thank you for coming", 7.5),
    ("a", "and see you later.", 9.9),  # a pause of 1.05 s before it: a line of its own (script.pause_break_s 0.8)
)


def heard() -> tuple[Transcript, list[Turn]]:
    """The words of SAID, 0.3 s each, 0.35 s apart, and one speaker turn around each sentence."""
    words, turns = [], []
    for speaker, sentence, start in SAID:
        said = [Word(text, start + index * 0.35, start + index * 0.35 + 0.3) for index, text in enumerate(sentence.split())]
        words += said
        turns.append(Turn(start - 0.1, said[-1].end + 0.1, speaker))
    return Transcript("en", 1.0, tuple(words)), turns


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Context:
    return Context(Settings(home=tmp_path_factory.mktemp("lines-home")))


@pytest.fixture
def programme(home):
    """A fresh project of the sample, its transcript given (no model heard it): L0001-L0004 of SAID."""
    project = projects.create_project(home, SAMPLE, name="Lines")
    scripting.import_transcript(home, project, *heard(), "the line edit tests' transcript")
    return project


def lines_of(ctx, project) -> dict[str, object]:
    return {line.id: line for line in scripting.script(ctx, project).lines}


@pytest.mark.fast
def test_a_split_at_a_word_gives_two_lines_timed_by_its_words_whose_texts_join_to_the_line(home, programme):
    line = lines_of(home, programme)["L0002"]
    change = lines.split_line(home, programme, "L0002", at_word=6, by=EDITOR)
    first, second = change.lines
    assert (first.id, second.id) == ("L0002", "L0002.2")
    assert (first.text, second.text) == ("We start the meeting now", "and end it at noon.")
    assert f"{first.text} {second.text}" == line.text and first.words + second.words == line.words
    assert (first.start, first.end) == (line.start, line.words[4].end)  # to the end of "now"
    assert (second.start, second.end) == (line.words[5].start, line.end)  # from the start of "and"
    assert first.speaker == second.speaker == B
    script = scripting.script(home, programme)
    assert [line.id for line in script.lines] == ["L0001", "L0002", "L0002.2", "L0003", "L0004"]
    again = lines.split_line(home, programme, "L0002", at_time=line.words[2].start + 0.1, by=EDITOR)
    assert [(line.id, line.text) for line in again.lines] == [("L0002", "We start the"), ("L0002.3", "meeting now")]
    with home.sessions() as session:
        audited = session.scalars(select(AuditEvent).where(AuditEvent.project_id == programme.id,
                                                           AuditEvent.action == "line split")).all()
    assert [(event.actor, event.line_id, event.detail["edit"]["at_word"]) for event in audited] == [
        (EDITOR, "L0002", 6), (EDITOR, "L0002", 4)]


@pytest.mark.fast
def test_a_split_outside_the_line_or_at_its_edge_is_refused_by_name(home, programme):
    line = lines_of(home, programme)["L0002"]
    refusals = {
        "has 10 word": dict(at_word=1),  # at the first word: an empty first part
        "at word 11 one part would be empty": dict(at_word=11),
        "outside line L0002": dict(at_time=line.start - 0.5),
        "no word of line L0002 starts at": dict(at_time=line.words[-1].start + 0.1),
        "at a word or at a time": {},
    }
    for said, where in refusals.items():
        with pytest.raises(ScriptEditError, match=said):
            lines.split_line(home, programme, "L0002", **where, by=EDITOR)
    with pytest.raises(ScriptEditError, match="the script has no line L0009; its lines run L0001 to L0004"):
        lines.split_line(home, programme, "L0009", at_word=2, by=EDITOR)
    assert list(lines_of(home, programme)) == ["L0001", "L0002", "L0003", "L0004"], "nothing refused was kept"


@pytest.mark.fast
def test_merging_joins_a_line_with_a_later_one_and_asks_whose_it_is_when_their_speakers_differ(home, programme):
    before = lines_of(home, programme)
    change = lines.merge_lines(home, programme, "L0003", "L0004", by=EDITOR)
    (merged,) = change.lines
    assert change.gone == ("L0004",)
    assert (merged.id, merged.speaker, merged.text) == ("L0003", A, "Thank you for coming and see you later.")
    assert (merged.start, merged.end) == (before["L0003"].start, before["L0004"].end)
    with pytest.raises(ScriptEditError, match=r"L0001 \(SPEAKER_00\) and L0002 \(SPEAKER_01\) have different speakers"):
        lines.merge_lines(home, programme, "L0001", "L0002", by=EDITOR)
    with pytest.raises(ScriptEditError, match="L0001 does not come after L0002"):
        lines.merge_lines(home, programme, "L0002", "L0001", speaker=B, by=EDITOR)
    (whole,) = lines.merge_lines(home, programme, "L0001", "L0002", speaker=B, by=EDITOR).lines
    assert (whole.id, whole.speaker) == ("L0001", B)
    assert whole.text == "Good morning, everyone. We start the meeting now and end it at noon."
    assert list(lines_of(home, programme)) == ["L0001", "L0003"]


@pytest.mark.fast
def test_a_retime_stays_inside_the_programme_clear_of_its_speakers_lines_and_lasts(home, programme):
    before = lines_of(home, programme)
    duration = scripting.script(home, programme).duration
    refusals = {"the programme runs 0-": (before["L0003"].start, duration + 1), "programme runs": (-0.5, 8.0),
                "would last -1.00 s": (8.0, 7.0), "would last 0.00 s": (8.0, 8.0),
                "would overlap L0004 .* which SPEAKER_00 also speaks": (7.5, 10.0)}
    for said, (start, end) in refusals.items():
        with pytest.raises(ScriptEditError, match=said):
            lines.retime_line(home, programme, "L0003", start, end, by=EDITOR)
    change = lines.retime_line(home, programme, "L0003", 6.0, 9.5, by=EDITOR)  # over SPEAKER_01's L0002: another voice
    assert [(line.id, line.start, line.end, line.text) for line in change.lines] == [
        ("L0003", 6.0, 9.5, before["L0003"].text)]
    assert lines_of(home, programme)["L0003"].words == before["L0003"].words
    # L0002 (to 6.45 s) had room up to 6.95 s for its dub, and now L0003 starts at 6.0 s: its fit would change
    assert change.to_speak_again == ("L0002", "L0003")


@pytest.mark.fast
def test_a_line_moved_to_another_speaker_keeps_its_words_and_time_unless_that_voice_is_busy(home, programme):
    before = lines_of(home, programme)
    (moved,) = lines.move_line(home, programme, "L0004", B, by=EDITOR).lines
    assert moved == replace(before["L0004"], speaker=B)
    with pytest.raises(ScriptEditError, match="L0004 is spoken by SPEAKER_01: name another speaker"):
        lines.move_line(home, programme, "L0004", B, by=EDITOR)
    lines.retime_line(home, programme, "L0002", 3.0, 8.0, by=EDITOR)
    with pytest.raises(ScriptEditError, match=r"L0003 \(7.50-8.85 s\) would overlap L0002 \(3.00-8.00 s\)"):
        lines.move_line(home, programme, "L0003", B, by=EDITOR)
    assert lines_of(home, programme)["L0003"].speaker == A


@pytest.mark.fast
def test_edits_survive_a_rebuilt_script_and_one_whose_line_has_gone_is_reported(home, programme):
    lines.split_line(home, programme, "L0002", at_word=6, by=EDITOR)
    lines.move_line(home, programme, "L0004", B, by=EDITOR)
    lines.retime_line(home, programme, "L0001", 0.8, 2.2, by=EDITOR)
    kept = scripting.script(home, programme)
    rebuilt = Context(home.settings.with_overrides(script={"max_line_s": 6.9}))  # a setting changed: built anew
    assert scripting.script(rebuilt, programme) == kept
    with rebuilt.sessions() as session:
        builds = session.scalars(select(StageRun).where(StageRun.project_id == programme.id,
                                                        StageRun.stage == "script")).all()
    assert len(builds) == 2, "the machine's script was built again"
    joined = Context(home.settings.with_overrides(script={"pause_break_s": 1.5}))  # L0003 and L0004 become one line
    edited = scripting.edited_script(joined, programme)
    assert [str(edit) for edit in edited.applied] == ["split L0002 at word 6 into L0002 and L0002.2",
                                                      "retime L0001 to 0.80-2.20 s"]
    (gone,) = edited.unapplied
    assert str(gone).startswith(f"move L0004 to {B} (by {EDITOR}) no longer applies: the script has no line L0004")
    assert [line.id for line in edited.script.lines] == ["L0001", "L0002", "L0002.2", "L0003"]
    assert scripting.script(home, programme) == kept, "back on the old settings, every edit applies again"


@pytest.mark.fast
def test_the_line_commands_edit_the_script_say_what_they_did_and_report_an_edit_that_no_longer_applies(home, programme):
    def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([*DUBDESK, "line", *args, "--home", str(home.settings.home)], capture_output=True,
                              text=True, cwd=ROOT, env={**os.environ, **env})

    project = str(programme.id)
    split = cli("split", project, "L0002", "--at-word", "6", "--by", EDITOR)
    assert split.returncode == 0, split.stderr
    assert f"split L0002 at word 6 into L0002 and L0002.2 (by {EDITOR})" in split.stdout
    assert "L0002.2\tSPEAKER_01\t4.75-6.45 s\tand end it at noon." in split.stdout
    merged = cli("merge", project, "L0001", "L0002", "--speaker", B, "--by", EDITOR)
    assert merged.returncode == 0 and "L0002\tgone" in merged.stdout, merged.stderr
    retimed = cli("retime", project, "L0003", "--start", "7.4", "--end", "9.0", "--by", EDITOR)
    assert retimed.returncode == 0 and "L0003\tSPEAKER_00\t7.40-9.00 s\tThank you for coming" in retimed.stdout
    moved = cli("move", project, "L0004", "--speaker", B, "--by", EDITOR)
    assert moved.returncode == 0 and "L0004\tSPEAKER_01\t9.90-11.25 s" in moved.stdout, moved.stderr
    refused = cli("move", project, "L0004", "--speaker", B, "--by", EDITOR)
    assert refused.returncode == 2 and refused.stderr.strip().splitlines() == [
        "error: line L0004 is spoken by SPEAKER_01: name another speaker to move it to"]
    listed = cli("edits", project)
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 4, listed.stderr
    assert [line.id for line in scripting.script(home, programme).lines] == ["L0001", "L0002.2", "L0003", "L0004"]
    reported = cli("edits", project, DUBDESK_SCRIPT__PAUSE_BREAK_S="1.5")  # L0004 joins L0003 in the machine's script
    assert reported.returncode == 1
    assert "no longer applies: line L0003 now says" in reported.stderr
    assert f"move L0004 to {B} (by {EDITOR}) no longer applies: the script has no line L0004" in reported.stderr


def test_a_dub_run_again_after_a_split_keeps_untouched_lines_and_redoes_the_split_ones(home, programme):
    report = pipeline.prepare_dub(home, programme, LANGUAGE, VOICE)
    assert not report.refused and set(report.results) == {"L0001", "L0002", "L0003", "L0004"}
    for line_id in report.results:
        desk.review(home, programme, line_id, LANGUAGE, REVIEWER, approve=True, override_reason="test: accepted")
    person = translation.translations(home, programme, LANGUAGE)["L0002"]
    translation.edit_translation(home, programme, "L0002", LANGUAGE, "Empezamos la reunión ya y acabamos a mediodía.",
                                 EDITOR, person.version)
    before = {line_id: clip.id for line_id, clip in speech.current_clips(home, programme, LANGUAGE).items()}

    change = lines.split_line(home, programme, "L0002", at_word=6, by=EDITOR)
    assert change.to_speak_again == ("L0002", "L0002.2") and change.retired_takes >= 1
    assert "L0002" not in speech.current_clips(home, programme, LANGUAGE), "its take no longer counts"
    assert "L0002" not in translation.translations(home, programme, LANGUAGE), "nor does its text"

    rebuilt = Context(home.settings.with_overrides(script={"max_line_s": 6.9}))  # the script stage runs again too
    again = pipeline.prepare_dub(rebuilt, programme, LANGUAGE, VOICE)
    assert not again.refused and not again.unapplied_edits
    assert set(again.results) == {"L0001", "L0002", "L0002.2", "L0003", "L0004"}
    after = {line_id: clip for line_id, clip in speech.current_clips(home, programme, LANGUAGE).items()}
    untouched = {"L0001", "L0003", "L0004"}
    assert {line_id: after[line_id].id for line_id in untouched} == {line_id: before[line_id] for line_id in untouched}
    assert set(desk.approvals(home, programme, LANGUAGE)) == untouched, "the split lines wait for a person"
    assert after["L0002"].id > before["L0002"] and "L0002.2" in after
    texts = translation.translations(home, programme, LANGUAGE)
    assert texts["L0002"].origin == texts["L0002.2"].origin == "machine"
    assert (after["L0002"].text, after["L0002.2"].text) == (texts["L0002"].text, texts["L0002.2"].text)
    split = lines_of(home, programme)
    assert after["L0002.2"].fitted.start == split["L0002.2"].start  # the new line is dubbed where it now starts


def test_a_take_unretired_in_the_database_after_its_line_was_retimed_does_not_go_out(home, programme):
    from sqlalchemy import update

    from dubdesk.errors import ProjectError
    from dubdesk.services import delivery
    from dubdesk.store.models import Clip

    pipeline.prepare_dub(home, programme, LANGUAGE, VOICE)
    for line_id in lines_of(home, programme):
        desk.review(home, programme, line_id, LANGUAGE, REVIEWER, approve=True, override_reason="test: accepted")
    line = lines_of(home, programme)["L0003"]
    lines.retime_line(home, programme, "L0003", line.start - 0.2, line.end, by=EDITOR)
    with home.sessions() as session:  # someone with write access to the database undoes the retirement
        session.execute(update(Clip).where(Clip.project_id == programme.id).values(retired_by=None))
        session.commit()
    assert "L0003" in speech.current_clips(home, programme, LANGUAGE)
    with pytest.raises(ProjectError, match=r"1 line\(s\) \(L0003\) were edited after their take was fitted"):
        delivery.deliver(home, programme, LANGUAGE, home.settings.home / "out")
