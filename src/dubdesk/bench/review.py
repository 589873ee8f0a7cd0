"""Review-page benchmark on a generated project of 1,000+ lines, in the real app and a real browser.

The project: the bundled sample looped to the programme's length, with an imported transcript of
FLORES English sentences (one line each, two alternating speakers), machine-translated into
Spanish and spoken line by line by a stock voice through the consent gate. Measured: opening the
review page, paging through it, opening its programme view (every line drawn; the first time
computes the waveform), the first play of the dub preview (made then, once for these takes) and
editing and regenerating one line (speech, fit, QC) from the browser, against the targets of 2 s
per page and programme view and 5 s per regenerated line.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from ..access import add_user
from ..config import Settings
from ..context import Context
from ..core import Transcript, Turn, Word
from ..services import casting, projects, scripting, speech, translation
from .report import StageTimes, publish

SECONDS_PER_WORD, GAP_S = 0.32, 1.2
PASSWORD = "benchmark only"
PREVIEW_WAIT_MS = 900_000  # a preview of hours of programme is made on its first play
LANGUAGE, VOICE = "es", "stock-pico-es-es"


def generated_project(ctx: Context, sample: Path, sentences: list[str], lines: int, folder: Path):
    """A project of `lines` lines (see the module docstring); returns it and the seconds per stage."""
    words, turns, at = [], [], 1.0
    for index in range(lines):
        sentence = sentences[index % len(sentences)]  # FLORES dev has 491: the programme says them again
        start = at
        for token in sentence.split():
            words.append(Word(token, at, at + SECONDS_PER_WORD * 0.9))
            at += SECONDS_PER_WORD
        turns.append(Turn(start, at, f"SPEAKER_{index % 2:02d}"))
        at += GAP_S
    source = folder / "programme.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(sample), "-t",
                    f"{at + 1:.1f}", "-ac", "1", str(source)], check=True)
    timed = StageTimes()
    project = timed("ingest", lambda: projects.create_project(ctx, source, name="review benchmark"))
    script = timed("import script", lambda: scripting.import_transcript(ctx,
        project, Transcript("en", 1.0, tuple(words)), turns, "FLORES-200 dev (CC-BY-SA 4.0), generated timing"))
    timed("translate", lambda: translation.translate(ctx, project, LANGUAGE))
    for speaker in script.speakers:
        casting.cast(ctx, project, speaker, LANGUAGE, VOICE)
    timed("synthesize", lambda: speech.synthesize_language(ctx, project, LANGUAGE))
    return project, script, timed


def browser_timings(ctx: Context, project, script, pages: int = 5) -> list[dict]:
    """Sign in, open the review page, page through it, edit and regenerate one line: seconds each."""
    from playwright.sync_api import sync_playwright
    from ui.app import serve

    add_user(ctx.sessions, "bench", PASSWORD, "localization")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app, url = serve(ctx, port=port, block=False)
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-sync"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120000)
            page.goto(url)
            page.fill("input[type=text]", "bench")
            page.fill("input[type=password]", PASSWORD)
            page.click("button:has-text('Login')")
            page.wait_for_selector("#whoami:has-text('Signed in as')")
            rows += programme_timings(page, url, project, len(script.lines))
            choose_project(page, url, project)
            for number in range(1, pages + 1):
                page.locator("#review-page input").first.fill(str(number))
                began = time.perf_counter()
                page.click("#review-load")
                page.wait_for_selector(f"#review-page-info:has-text('page {number} of')")
                page.locator("#review-table span.text >> visible=true").filter(has_text=script.lines[(number - 1) * 50].id).first.wait_for()
                rows.append({"action": "open the review page" if number == 1 else f"page {number}",
                             "seconds": round(time.perf_counter() - began, 2), "target s": 2.0})
            for label, line in (("first after start (models load)", script.lines[7].id), ("warm", script.lines[60].id)):
                box = page.locator("#review-line textarea, #review-line input").first
                box.fill(line)
                box.press("Enter")
                page.wait_for_selector(f"#review-details:has-text('{line}')")
                page.locator("#review-text textarea").first.fill("Una frase corta, corregida.")
                began = time.perf_counter()
                page.click("#review-regenerate")
                page.wait_for_selector(f"text={line} regenerated")
                rows.append({"action": f"edit and regenerate one line (speech, fit; playable), {label}",
                             "seconds": round(time.perf_counter() - began, 2), "target s": 5.0})
                page.wait_for_selector(f"text={line} regenerated and checked")
                rows.append({"action": f"... and its QC verdicts shown, {label}",
                             "seconds": round(time.perf_counter() - began, 2), "target s": None})
            browser.close()
    finally:
        app.close()
    return rows


def choose_project(page, url: str, project) -> None:
    """The review page afresh, on the project."""
    page.goto(url)
    page.click("[role=tab]:has-text('Review')")
    page.click("#project-choice input")
    page.click(f"[role=option]:has-text('{project.id} {project.name}')")
    page.locator("#review-language textarea, #review-language input").first.fill(LANGUAGE)


def programme_timings(page, url: str, project, lines: int) -> list[dict]:
    """Open the review page until its programme view has drawn every line (twice: the first time
    computes the waveform), then hear the dub preview, made on that first play, and switch to it again."""
    rows = []
    for label in ("open the programme view, first time (waveform computed)", "open the programme view again"):
        choose_project(page, url, project)
        began = time.perf_counter()
        page.click("#review-load")
        page.wait_for_function("(n) => document.querySelectorAll('#programme-view .pv-block').length === n", arg=lines)
        rows.append({"action": f"{label}: {lines} blocks drawn", "seconds": round(time.perf_counter() - began, 2), "target s": 2.0})
    page.click("#programme-play")
    for label in ("first play of the dub preview (made now)", "switch to the dub preview again (kept)"):
        page.click("#programme-ab-source")
        began = time.perf_counter()
        page.click("#programme-ab-dub")
        page.wait_for_function("() => { const p = window.dubdeskProgramme; return p.state.mode === 'dub' && !p.heard().paused "
                               "&& p.heard().currentTime > 0 && p.heard().readyState >= 3 }", timeout=PREVIEW_WAIT_MS)
        rows.append({"action": label, "seconds": round(time.perf_counter() - began, 2), "target s": None})
    page.click("#programme-play")  # pause
    return rows


def run(settings: Settings, eval_dir: Path, sample: Path, out: Path, lines: int = 1000, home: Path | None = None) -> dict:
    sentences = (eval_dir / "translation" / "flores200" / "eng.txt").read_text("utf-8").splitlines()
    with tempfile.TemporaryDirectory(prefix="dubdesk-bench-review-") as scratch:
        ctx = Context(settings.in_scratch_home(home or Path(scratch) / "home"))
        project, script, timings = generated_project(ctx, sample, sentences, lines, Path(scratch))
        rows = browser_timings(ctx, project, script)
    summary = {"lines": len(script.lines), "programme minutes": round(script.duration / 60, 1),
               "setup seconds": {stage: round(s, 1) for stage, s in timings.items()}}
    publish(f"Review page on a generated {len(script.lines)}-line project (browser)", rows, summary, out)
    return {"rows": rows, "summary": summary}
