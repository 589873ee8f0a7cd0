"""Script building, timecodes and exports, on hand-made words and turns (pure logic)."""
from __future__ import annotations

import csv
import io
import json

import pysubs2
import pytest
from openpyxl import load_workbook

from dubdesk.config import ScriptSettings
from dubdesk.core import Script, Transcript, Turn, Word
from dubdesk.export.script_files import dialogue_csv, export_script, rttm
from dubdesk.export.timecode import timecode_in, timecode_out
from dubdesk.script import build_script

pytestmark = pytest.mark.fast

SETTINGS = ScriptSettings()


def words(*items: tuple[str, float, float]) -> tuple[Word, ...]:
    return tuple(Word(text, start, end) for text, start, end in items)


def transcript(*items, language="en") -> Transcript:
    return Transcript(language, 0.99, words(*items))


def test_lines_break_at_speaker_change_sentence_end_and_pause():
    heard = transcript(("Hello", 0.0, 0.4), ("there.", 0.5, 0.9), ("How", 1.0, 1.2), ("are", 1.25, 1.4),
                       ("you", 1.45, 1.7), ("Fine", 2.0, 2.3), ("thanks", 2.35, 2.8), ("Later", 5.0, 5.5))
    turns = [Turn(0.0, 1.8, "B"), Turn(1.9, 6.0, "A")]
    script = build_script(heard, turns, 6.0, SETTINGS)
    assert [(line.speaker, line.text) for line in script.lines] == [
        ("SPEAKER_00", "Hello there."), ("SPEAKER_00", "How are you"),
        ("SPEAKER_01", "Fine thanks"), ("SPEAKER_01", "Later")]
    assert script.lines[1].start == 1.0 and script.lines[1].end == 1.7
    assert [line.id for line in script.lines] == ["L0001", "L0002", "L0003", "L0004"]


def test_every_word_lands_in_one_line_even_in_gaps_between_turns():
    heard = transcript(("one", 0.0, 0.3), ("two", 0.35, 0.6), ("three", 3.1, 3.4))
    script = build_script(heard, [Turn(0.0, 0.5, "X"), Turn(3.5, 4.0, "Y")], 4.0, SETTINGS)
    assert sum(len(line.words) for line in script.lines) == 3
    assert script.lines[-1].speaker == "SPEAKER_01"


def test_a_sentence_cut_by_a_slipped_turn_edge_stays_one_speakers_line():
    heard = transcript(("Yes.", 13.5, 13.9), ("And", 14.38, 14.5), ("I'm", 14.5, 14.76), ("Sheila", 14.76, 15.08),
                       ("from", 15.1, 15.4), ("Texas.", 15.4, 15.9))
    overlapping = [Turn(10.0, 14.75, "A"), Turn(14.28, 17.0, "B")]  # B is heard from 14.28: "And I'm" is B's
    assert [(line.speaker, line.text) for line in build_script(heard, overlapping, 17.0, SETTINGS).lines] == [
        ("SPEAKER_00", "Yes."), ("SPEAKER_01", "And I'm Sheila from Texas.")]
    apart = [Turn(10.0, 14.77, "A"), Turn(14.8, 17.0, "B")]  # nobody else is heard in "And I'm": a change of speaker
    assert [(line.speaker, line.text) for line in build_script(heard, apart, 17.0, SETTINGS).lines] == [
        ("SPEAKER_00", "Yes."), ("SPEAKER_00", "And I'm"), ("SPEAKER_01", "Sheila from Texas.")]


def test_a_line_is_a_sentence_and_a_long_one_splits_only_where_it_pauses_or_ends_a_phrase():
    said = [f"word{i}" for i in range(40)]
    said[24] += ","  # a phrase ends here
    heard = transcript(*((text, i * 0.3, i * 0.3 + 0.25) for i, text in enumerate(said)))  # no pause anywhere
    script = build_script(heard, [], 20.0, SETTINGS)
    assert [len(line.words) for line in script.lines] == [25, 15]  # at the comma, not at a count of characters
    assert {line.speaker for line in script.lines} == {"SPEAKER_00"}
    unbroken = transcript(*((f"word{i}", i * 0.3, i * 0.3 + 0.25) for i in range(40)))
    assert len(build_script(unbroken, [], 20.0, SETTINGS).lines) == 1  # nowhere to split: the sentence stays whole
    paused = transcript(*((f"word{i}", i * 0.3 + (0.4 if i >= 10 else 0), i * 0.3 + 0.25 + (0.4 if i >= 10 else 0))
                          for i in range(30)))
    assert [len(line.words) for line in build_script(paused, [], 20.0, SETTINGS).lines] == [10, 20]
    short = transcript(("A", 0.0, 0.2), ("short", 0.3, 0.6), ("sentence,", 0.7, 1.1), ("kept", 1.5, 1.8), ("whole.", 1.9, 2.3))
    assert len(build_script(short, [], 3.0, SETTINGS).lines) == 1  # within max_line_s: one line


def test_a_long_line_becomes_several_subtitle_cues_in_step_with_its_time():
    from dubdesk.export.script_files import subtitle_cues

    text = "This is one long sentence spoken by one speaker that runs far beyond what two subtitle rows can hold."
    cues = subtitle_cues(text, 10.0, 16.0)
    assert len(cues) == 2 and cues[0][0] == 10.0 and cues[-1][1] == pytest.approx(16.0)
    assert all(len(rows) <= 2 and all(len(row) <= 42 for row in rows) for _, _, rows in cues)
    assert cues[0][1] == cues[1][0]  # one after the other, no gap, no overlap
    assert " ".join(" ".join(rows) for _, _, rows in cues) == text


def test_unspaced_language_joins_without_spaces():
    script = build_script(transcript(("こんにちは", 0.0, 0.5), ("世界", 0.5, 0.9), language="ja"), [], 1.0, SETTINGS)
    assert script.lines[0].text == "こんにちは世界"


def test_timecodes_at_film_pal_and_drop_frame_rates():
    assert timecode_in(3723.5, 25) == "01:02:03:12"
    assert timecode_in(3723.5, 24) == "01:02:03:12"
    assert timecode_out(1.01, 25) == "00:00:01:01"
    assert timecode_in(600.0, 29.97) == "00:10:00;00"
    assert timecode_in(60.05, 29.97) == "00:00:59;29"
    assert timecode_in(60.061, 29.97) == "00:01:00;02"  # frames ;00 and ;01 are dropped at minute 1


def test_exports_round_trip(tmp_path):
    heard = transcript(("Hello,", 1.0, 1.4), ("world.", 1.5, 2.0), ("Bye.", 3.0, 3.5))
    script = build_script(heard, [Turn(0.9, 2.1, "ann"), Turn(2.9, 3.6, "bob")], 4.0, SETTINGS)
    written = export_script(script, tmp_path, "my file", 25.0)
    assert {p.name for p in written} == {"script.json", "script.srt", "script.vtt", "speakers.rttm",
                                         "dialogue_list.csv", "dialogue_list.xlsx"}
    data = json.loads((tmp_path / "script.json").read_text())
    assert Script.from_json(data) == script
    line = data["lines"][0]
    assert {"speaker", "start", "end", "text", "words"} <= set(line)
    assert set(line["words"][0]) >= {"word", "start", "end"}
    subs = pysubs2.load(str(tmp_path / "script.srt"))
    assert [(e.start, e.end, e.plaintext) for e in subs] == [(1000, 2000, "Hello, world."), (3000, 3500, "Bye.")]
    assert pysubs2.load(str(tmp_path / "script.vtt"))[1].plaintext == "Bye."
    assert rttm(script, "my file").splitlines()[0] == "SPEAKER my_file 1 0.900 1.200 <NA> <NA> SPEAKER_00 <NA> <NA>"
    rows = list(csv.reader(io.StringIO(dialogue_csv(script, 25.0))))
    assert rows[0] == ["In-TC", "Out-TC", "Source", "Dialogue", "Burned-in", "On-screen", "Annotations"]
    assert rows[1][:4] == ["00:00:01:00", "00:00:02:00", "SPEAKER_00", "Hello, world."]
    sheet = load_workbook(tmp_path / "dialogue_list.xlsx").active
    assert [c.value for c in sheet[3]][:4] == ["00:00:03:00", "00:00:03:13", "SPEAKER_01", "Bye."]
