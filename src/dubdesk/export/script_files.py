"""Script exports: JSON, SRT, VTT, RTTM and the timecoded dialogue list (CSV, XLSX).

Every writer goes through `atomic_write`, so a crash never leaves half a file.
"""
from __future__ import annotations

import csv
import io
import json
import re
import textwrap
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pysubs2

from ..core import Script
from ..files import atomic_write, write_text
from .timecode import timecode_in, timecode_out

DIALOGUE_LIST_COLUMNS = ("In-TC", "Out-TC", "Source", "Dialogue", "Burned-in", "On-screen", "Annotations")
SUBTITLE_ROW_CHARS = 42
SUBTITLE_ROWS = 2  # a cue shows at most this many rows; a longer line is split into cues


def safe_file_name(title: str) -> str:
    """A title kept readable (Unicode too) without what Windows, macOS or Linux forbid in a file name."""
    stem = re.sub(r'[<>:"/\\|?*\x00-\x1f]+', "_", unicodedata.normalize("NFC", title)).strip(" .")
    return stem[:120] or "untitled"


def script_json(script: Script) -> str:
    return json.dumps(script.to_json(), ensure_ascii=False, indent=2)


def subtitle_cues(text: str, start: float, end: float) -> list[tuple[float, float, list[str]]]:
    """A line as cues of at most SUBTITLE_ROWS rows of SUBTITLE_ROW_CHARS: (start, end, rows), the
    line's time shared out by characters, so a long line reads in steps as it is spoken."""
    rows = textwrap.wrap(text, SUBTITLE_ROW_CHARS) or [text]
    groups = [rows[i:i + SUBTITLE_ROWS] for i in range(0, len(rows), SUBTITLE_ROWS)]
    total = sum(len(row) for row in rows) or 1
    cues, said = [], 0
    for group in groups:
        begin = start + (end - start) * said / total
        said += sum(len(row) for row in group)
        cues.append((begin, start + (end - start) * said / total, group))
    return cues


def _subtitles(script: Script) -> pysubs2.SSAFile:
    subs = pysubs2.SSAFile()
    for line in script.lines:
        for begin, end, rows in subtitle_cues(line.text, line.start, line.end):
            subs.append(pysubs2.SSAEvent(start=round(begin * 1000), end=round(end * 1000), text=r"\N".join(rows),
                                         name=line.speaker))
    return subs


def subtitles(script: Script, format_: str) -> str:
    return _subtitles(script).to_string(format_)


def rttm(script: Script, file_id: str) -> str:
    uri = "".join(c if c.isalnum() or c in "-_." else "_" for c in file_id) or "source"
    return "".join(
        f"SPEAKER {uri} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {t.speaker} <NA> <NA>\n" for t in script.turns
    )


def dialogue_rows(script: Script, frame_rate: float) -> list[tuple[str, ...]]:
    return [
        (timecode_in(line.start, frame_rate), timecode_out(line.end, frame_rate), line.speaker.upper(), line.text,
         "", "", "")
        for line in script.lines
    ]


def dialogue_csv(script: Script, frame_rate: float) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(DIALOGUE_LIST_COLUMNS)
    writer.writerows(dialogue_rows(script, frame_rate))
    return buffer.getvalue()


def write_dialogue_xlsx(path: Path, script: Script, frame_rate: float) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    def write(tmp: Path) -> None:
        book = Workbook()
        sheet = book.active
        sheet.title = "Dialogue list"
        sheet.append(DIALOGUE_LIST_COLUMNS)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in dialogue_rows(script, frame_rate):
            sheet.append(row)
        sheet.freeze_panes = "A2"
        for column, width in zip("ABCDEFG", (13, 13, 14, 70, 12, 12, 30)):
            sheet.column_dimensions[column].width = width
        book.save(tmp)

    return atomic_write(path, write)


SCRIPT_FORMATS = ("json", "srt", "vtt", "rttm", "csv", "xlsx")


def export_script(script: Script, folder: Path, file_id: str, frame_rate: float,
                  formats: tuple[str, ...] = SCRIPT_FORMATS) -> list[Path]:
    """Write the chosen formats into `folder`: script.json, script.srt, script.vtt,
    speakers.rttm, dialogue_list.csv, dialogue_list.xlsx."""
    writers: dict[str, Callable[[], Path]] = {
        "json": lambda: write_text(folder / "script.json", script_json(script)),
        "srt": lambda: write_text(folder / "script.srt", subtitles(script, "srt")),
        "vtt": lambda: write_text(folder / "script.vtt", subtitles(script, "vtt")),
        "rttm": lambda: write_text(folder / "speakers.rttm", rttm(script, file_id)),
        "csv": lambda: write_text(folder / "dialogue_list.csv", dialogue_csv(script, frame_rate)),
        "xlsx": lambda: write_dialogue_xlsx(folder / "dialogue_list.xlsx", script, frame_rate),
    }
    unknown = set(formats) - set(writers)
    if unknown:
        raise ValueError(f"unknown export format(s) {sorted(unknown)}; known: {', '.join(SCRIPT_FORMATS)}")
    return [writers[name]() for name in formats]
