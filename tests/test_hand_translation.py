"""Any language by hand: a pair no engine serves opens every line empty for a person to write, typed one
by one or taken from a translator's subtitles; each line's text says whose it is."""
from __future__ import annotations

import pytest

from dubdesk.errors import BadInputError
from dubdesk.services import casting, desk, pipeline, scripting, translation
from dubdesk.translate.edits import read_subtitles

LANGUAGE, VOICE, WRITER = "de", "stock-pico-de-de", "Greta Übersetzerin"


@pytest.fixture(scope="module")
def opened(ctx, sample_project):
    """The sample opened in German, which no embedded engine translates, every speaker cast."""
    rows = translation.translate(ctx, sample_project, LANGUAGE)
    script = scripting.script(ctx, sample_project)
    for speaker in script.speakers:
        casting.cast(ctx, sample_project, speaker, LANGUAGE, VOICE)
    return sample_project, script, rows


def test_a_pair_no_engine_serves_opens_every_line_empty_to_write(ctx, opened):
    project, script, rows = opened
    assert set(rows) == {line.id for line in script.lines}
    assert all(row.text == "" and row.origin == "human" and row.budget_syllables >= 1 for row in rows.values())
    assert set(translation.text_labels(ctx, project, LANGUAGE).values()) == {"to write"}
    report = pipeline.prepare_dub(ctx, project, LANGUAGE, VOICE)
    assert set(report.refused) == set(rows) and not report.results
    assert set(report.refused.values()) == {"no text yet: a person writes it"}
    again = translation.translate(ctx, project, LANGUAGE)  # run again: the same open lines, none added or lost
    assert {line_id: (row.text, row.version) for line_id, row in again.items()} == {
        line_id: ("", row.version) for line_id, row in rows.items()}


def test_a_line_written_by_hand_is_spoken_in_its_cast_voice_fitted_checked_and_labelled_human(ctx, opened):
    project, script, _ = opened
    line = script.lines[0]
    row = translation.translations(ctx, project, LANGUAGE)[line.id]
    desk.regenerate_line(ctx, project, line.id, LANGUAGE, "Hallo.", WRITER, row.version)
    checked = desk.check_line(ctx, project, line.id, LANGUAGE)
    assert checked.text == "Hallo." and checked.text_label == "human" and checked.clip_path
    assert checked.qc["intelligibility"][0] in {"pass", "warn"}
    assert translation.text_labels(ctx, project, LANGUAGE)[line.id] == "human"


def test_a_translators_subtitles_fill_the_lines_their_cues_overlap(ctx, opened, tmp_path):
    project, script, _ = opened
    first, second = script.lines[1], script.lines[2]
    subtitles = tmp_path / "de.srt"
    subtitles.write_text(f"1\n{_srt(first.start)} --> {_srt(first.end)}\nHallo!\n\n"
                         f"2\n{_srt(second.start)} --> {_srt(second.start + 0.2)}\nAch,\n\n"
                         f"3\n{_srt(second.start + 0.2)} --> {_srt(second.end)}\nhallo.\n", encoding="utf-8")
    texts = read_subtitles(subtitles, script.lines)
    assert texts == {first.id: "Hallo!", second.id: "Ach, hallo."}
    rows = desk.adapt_lines(ctx, project, LANGUAGE, texts, WRITER)
    assert {row.line_id: row.text for row in rows} == texts and all(row.clip_path for row in rows)
    stray = tmp_path / "stray.srt"
    stray.write_text(f"1\n{_srt(script.duration + 5)} --> {_srt(script.duration + 6)}\nNiemand.\n", encoding="utf-8")
    with pytest.raises(BadInputError, match=r"the cue at \d+\.\d\d-\d+\.\d\d s lies over no line of the script"):
        read_subtitles(stray, script.lines)


def test_a_machine_line_is_labelled_with_its_routes_quality(ctx, sample_project):
    for language, quality in (("pt", "machine, good"), ("es", "machine, draft")):  # one neural step; a rule-based chain
        rows = translation.translate(ctx, sample_project, language)
        labels = translation.text_labels(ctx, sample_project, language)
        machine = [line_id for line_id, row in rows.items() if row.origin == "machine"]
        assert machine and {labels[line_id] for line_id in machine} == {quality}


def _srt(seconds: float) -> str:
    millis = round(seconds * 1000)
    return f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d},{millis % 1000:03d}"
