"""The review desk's programme view: the service that says what it shows (lanes, blocks and their looks,
the waveform, the previews made on demand and kept by the takes they hold), the media served only to
the signed-in person asking, and the view driven in headless Chromium on an audio and a video source.

Works on conftest's served project (an audio source, one per session, shared with test_ui) and on a
short video of its own (a test card over the sample's speech) with an imported two-speaker script,
dubbed with a stock voice, one line approved, one rejected and one retimed (so it has no take).
Screenshots go to test_ui's screenshots folder; the two views are also copied to /tmp/prog-shots/.
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np
import pytest

from dubdesk.audio import RATE, decode_audio
from dubdesk.bench.security.web import fetched, signed_in
from dubdesk.core import CheckResult, Decision, Transcript, Turn, Word
from dubdesk.services import desk, lines, pipeline, projects, scripting
from dubdesk.services.programme import LOOKS, build_preview, look, programme_view, waveform
from dubdesk.store.takes import current_takes

from .conftest import REVIEWER
from .test_ui import LANGUAGE, PASSWORD, SHOTS, browser, cell, open_line, open_review, shot, sign_in

__all__ = ["browser"]  # test_ui's fixture; `served` is conftest's, shared with test_ui for the session

PROGRAMME_SHOTS = Path("/tmp/prog-shots")
VOICE = "stock-pico-es-es"
WORDS = ((0.4, "Hello", "SPEAKER_00"), (0.8, "there.", "SPEAKER_00"), (2.6, "Good", "SPEAKER_01"), (3.0, "morning", "SPEAKER_01"),
         (3.4, "to", "SPEAKER_01"), (3.6, "you.", "SPEAKER_01"), (7.5, "How", "SPEAKER_00"), (7.9, "are", "SPEAKER_00"),
         (8.2, "you?", "SPEAKER_00"), (10.0, "Fine,", "SPEAKER_01"), (10.5, "thanks.", "SPEAKER_01"))  # the sample speaks from 7.5 s


@pytest.fixture(scope="module")
def video(ctx, make_media):
    """A 12 s video dubbed into Spanish: four lines, two speakers (SPEAKER_01 named "Marta"), the first
    approved, the second rejected, the last retimed after its take (so it has none)."""
    source = make_media("programme.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                        seconds=12.0, video=True)
    project = projects.create_project(ctx, source, name="Programme video")
    words = tuple(Word(text, start, start + 0.3) for start, text, _ in WORDS)
    turns = [Turn(start, start + 0.35, speaker) for start, _, speaker in WORDS]
    script = scripting.import_transcript(ctx, project, Transcript("en", 1.0, words), _merged(turns), "test")
    pipeline.prepare_dub(ctx, project, LANGUAGE, VOICE)
    first, second, *_, last = script.lines
    desk.review(ctx, project, first.id, LANGUAGE, REVIEWER, approve=True, override_reason="checked by ear")
    desk.review(ctx, project, second.id, LANGUAGE, REVIEWER, approve=False, note="too fast")
    lines.retime_line(ctx, project, last.id, last.start + 0.1, last.end, by=REVIEWER)
    project = projects.describe_project(ctx, project, characters={"SPEAKER_01": "Marta"})
    return project


def _merged(turns: list[Turn]) -> list[Turn]:
    """One turn per run of a speaker's words."""
    merged = [turns[0]]
    for turn in turns[1:]:
        if turn.speaker == merged[-1].speaker:
            merged[-1] = Turn(merged[-1].start, turn.end, turn.speaker)
        else:
            merged.append(turn)
    return merged


def _takes(ctx, project):
    with ctx.sessions() as session:
        return current_takes(session, project.id, LANGUAGE)


def test_the_view_has_a_lane_per_speaker_labelled_by_character_and_a_block_per_line_at_its_time(ctx, video):
    view = programme_view(ctx, video, LANGUAGE)
    script = scripting.script(ctx, video)
    assert [lane.speaker for lane in view.lanes] == ["SPEAKER_00", "SPEAKER_01"]
    assert [lane.label for lane in view.lanes] == ["SPEAKER_00", "Marta"]
    assert {(b.line_id, b.speaker, b.span) for b in view.blocks} == {(line.id, line.speaker, line.span) for line in script.lines}
    assert all(block.speaker == lane.speaker for lane in view.lanes for block in lane.blocks)
    assert view.has_video and view.waveform is None and view.source == projects.original(ctx, video)


def test_each_block_looks_as_its_decision_says_else_as_its_worst_verdict(ctx, video):
    first, second, third, last = scripting.script(ctx, video).lines
    looks = {block.line_id: block.look for block in programme_view(ctx, video, LANGUAGE).blocks}
    assert (looks[first.id], looks[second.id], looks[last.id]) == ("approved", "rejected", "untaken")
    take = _takes(ctx, video)[third.id]
    undecided = replace(take, decision=None, blocked=None)
    verdicts = {verdict: CheckResult("timing", verdict, {}, "checked") for verdict in ("pass", "warn", "fail")}
    assert look(replace(undecided, verdicts=())) == "unchecked"
    assert look(replace(undecided, verdicts=(verdicts["pass"],))) == "passed"
    assert look(replace(undecided, verdicts=(verdicts["pass"], verdicts["warn"]))) == "warned"
    assert look(replace(undecided, verdicts=(verdicts["warn"], verdicts["fail"]))) == "failed"
    assert look(replace(undecided, verdicts=(verdicts["fail"],), decision=Decision("approved", "r", "now", None, "ok"))) == "approved"
    assert look(replace(undecided, blocked="consent revoked")) == "blocked"
    assert look(None) == "untaken" and set(looks.values()) <= set(LOOKS)


def test_the_waveform_of_an_audio_source_holds_each_buckets_lowest_and_highest_sample(ctx, served):
    _, project, *_ = served
    shape = waveform(ctx, project)
    working = projects.source_audio(ctx, project)
    per_bucket = int(round(shape.bucket_s * RATE))
    assert len(shape.low) == len(shape.high) == -(-len(working) // per_bucket)
    loudest = int(np.argmax(shape.high))
    bucket = working[loudest * per_bucket:(loudest + 1) * per_bucket]
    assert shape.high[loudest] == round(bucket.max() * 127) and shape.low[loudest] == round(bucket.min() * 127)
    assert programme_view(ctx, project, LANGUAGE).waveform is not None


def _rms_db(audio: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(audio))) + 1e-9))


def test_previews_are_made_on_demand_kept_by_their_takes_and_made_again_after_a_regenerated_line(ctx, video):
    opened = programme_view(ctx, video, LANGUAGE)
    assert not any(p.ready for p in opened.previews.values()), "opening the view makes no preview"
    dub = build_preview(ctx, video, LANGUAGE, "dub").previews["dub"]
    assert dub.ready and dub.path.stat().st_size > 0
    stem = decode_audio(dub.path)
    assert abs(len(stem) / RATE - opened.duration_s) < 0.1
    takes, script = _takes(ctx, video), scripting.script(ctx, video)
    spoken = next(line for line in reversed(script.lines) if line.id in takes and takes[line.id].fit)  # the approved first stays
    at = int(takes[spoken.id].fit.start * RATE)
    assert _rms_db(stem[at:at + RATE // 2]) > -45 and _rms_db(stem[:int(0.3 * RATE)]) < -60, "the take at its start, silence before"

    began = time.perf_counter()
    again = programme_view(ctx, video, LANGUAGE)
    assert again.previews["dub"].ready and again.previews["dub"].path == dub.path and time.perf_counter() - began < 1.0

    texts = {line_id: t for line_id, t in _texts(ctx, video).items()}
    desk.regenerate_line(ctx, video, spoken.id, LANGUAGE, "Una frase distinta.", REVIEWER, texts[spoken.id].version)
    changed = programme_view(ctx, video, LANGUAGE)
    assert changed.takes_key != opened.takes_key and not changed.previews["dub"].ready
    remade = build_preview(ctx, video, LANGUAGE, "dub").previews["dub"]
    assert remade.ready and remade.path != dub.path and not dub.path.exists(), "the old preview goes"


def _texts(ctx, project):
    from dubdesk.services import translation

    return translation.translations(ctx, project, LANGUAGE)


def test_the_mix_preview_is_the_dub_over_the_source_ducked_under_each_take(ctx, video):
    view = build_preview(ctx, video, LANGUAGE, "mix")
    mix, source = decode_audio(view.previews["mix"].path), projects.source_audio(ctx, video)
    takes, script = _takes(ctx, video), scripting.script(ctx, video)
    untaken = next(line for line in script.lines if line.id not in takes)  # the retimed line: no take over it
    clear = slice(int((untaken.start + 0.3) * RATE), int((untaken.end - 0.1) * RATE))
    assert abs(_rms_db(mix[clear]) - _rms_db(source[clear])) < 1.5, "where no take is, the mix is the source"
    dub = decode_audio(build_preview(ctx, video, LANGUAGE, "dub").previews["dub"].path)
    unders = [slice(int((fit.start + 0.3) * RATE), int((fit.start + fit.fitted_s - 0.3) * RATE))
              for fit in (take.fit for take in takes.values() if take.fit) if fit.fitted_s > 0.8]
    under = max(unders, key=lambda span: _rms_db(source[span]))  # where the source speaks loudest under a take
    assert _rms_db(source[under]) > -40
    assert _rms_db(mix[under] - dub[under]) < _rms_db(source[under]) - 8, "under a take the source is ducked"


@pytest.fixture(scope="module")
def programme_api(served, video):
    from gradio_client import Client

    ctx, project, _, url = served

    def opened(name: str, chosen=video) -> dict:
        client = Client(url, auth=(name, PASSWORD), verbose=False, download_files=False)
        return json.loads(client.predict(f"{chosen.id} {chosen.name}", LANGUAGE, api_name="/programme"))

    return opened


@pytest.mark.browser
def test_the_source_is_served_to_the_signed_in_reviewer_alone(served, video, programme_api):
    ctx, _, _, url = served
    source = programme_api("lena")["source"]
    original = projects.original(ctx, video).read_bytes()
    assert fetched(signed_in(url, "lena", PASSWORD), source) == original
    assert fetched(httpx.Client(base_url=url), source) is None, "no one unsigned"
    assert fetched(signed_in(url, "dora", PASSWORD), source) is None, "nor another person"
    partial = signed_in(url, "lena", PASSWORD).get(source, headers={"Range": "bytes=100-"})
    assert partial.status_code == 206 and partial.content == original[100:], "a player seeks by ranges"


@pytest.mark.browser
def test_only_localization_may_open_the_programme_or_make_a_preview(served, video):
    from gradio_client import Client

    ctx, _, _, url = served
    label = f"{video.id} {video.name}"
    for name in ("vic", "dora", "ada"):
        client = Client(url, auth=(name, PASSWORD), verbose=False, download_files=False)
        for api_name, arguments in (("/programme", (label, LANGUAGE)), ("/dub_preview", (label, LANGUAGE)),
                                    ("/mix_preview", (label, LANGUAGE))):
            with pytest.raises(Exception, match="may not do this"):
                client.predict(*arguments, api_name=api_name)


# --- in the browser ---

def _open_programme(page, project) -> None:
    open_review(page, project)
    page.wait_for_selector("#programme-view .pv-block")


def _position(page) -> float:
    return page.evaluate("() => window.dubdeskProgramme.position()")


def _keep(page, name: str) -> None:
    shot(page, name)
    PROGRAMME_SHOTS.mkdir(exist_ok=True)
    shutil.copy(SHOTS / f"{name}.png", PROGRAMME_SHOTS / f"{name}.png")


@pytest.mark.browser
def test_the_audio_programme_shows_its_waveform_a_lane_per_speaker_and_blocks_coloured_as_the_service_says(served, browser):
    ctx, project, _, url = served
    view = programme_view(ctx, projects.project(ctx, project.id), LANGUAGE)  # its characters as named now (test_ui_editor names one)
    page = sign_in(browser, url, "lena")
    _open_programme(page, project)
    assert page.locator("#programme-view .pv-block").count() == len(scripting.script(ctx, project).lines)
    assert page.locator("#programme-view .pv-lane").count() == len(view.lanes)
    assert page.locator("#programme-labels .pv-label:not(.pv-label-ruler):not(.pv-label-wave)").all_inner_texts() == [
        lane.label for lane in view.lanes]
    shown = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#programme-view .pv-block')].map(b => [
        b.dataset.line, [b.dataset.look, b.parentElement.dataset.speaker, b.className.match(/pv-verdict-(\\S+)/)[1],
        getComputedStyle(b).backgroundColor,
        getComputedStyle(document.querySelector(`.pv-swatch[data-look="${b.dataset.look}"]`)).backgroundColor]]))""")
    assert {line: (looked, speaker, verdict) for line, (looked, speaker, verdict, *_) in shown.items()} == {
        b.line_id: (b.look, b.speaker, b.verdict.replace("-", "none")) for b in view.blocks}
    assert all(colour == legend for *_, colour, legend in shown.values()), "each block in its legend colour"
    assert page.locator("#programme-waveform").is_visible() and page.locator("#programme-view video").count() == 0
    page.locator("#review-table").scroll_into_view_if_needed()  # the table too, for the screenshot
    cell(page, "review-table", view.blocks[0].line_id).wait_for()
    drawn = page.evaluate("""() => { const c = document.getElementById('programme-waveform');
        return [...c.getContext('2d').getImageData(0, 0, c.width, c.height).data].filter((v, i) => i % 4 == 3 && v > 0).length }""")
    assert drawn > 1000, "the waveform is drawn"
    _keep(page, "programme-audio")
    page.context.close()


@pytest.mark.browser
def test_a_block_opens_its_line_in_the_editor_seeks_to_its_start_and_the_line_loops(served, browser):
    ctx, project, _, url = served
    line = min(scripting.script(ctx, project).lines, key=lambda line: line.duration)
    page = sign_in(browser, url, "lena")
    _open_programme(page, project)
    page.click(f"#programme-view .pv-block[data-line='{line.id}']")
    page.wait_for_selector(f"#review-details:has-text('{line.id}')")
    assert page.locator("#review-line textarea, #review-line input").first.input_value() == line.id
    assert page.locator(f"#programme-view .pv-block.pv-current[data-line='{line.id}']").count() == 1
    assert _position(page) == pytest.approx(line.start, abs=0.05)
    assert page.locator("#programme-loop").is_checked(), "looping is on for a line opened from the timeline"
    page.click("#programme-play")
    heard = page.evaluate("""(seconds) => new Promise(done => { const at = [];
        const every = setInterval(() => at.push(window.dubdeskProgramme.position()), 40);
        setTimeout(() => { clearInterval(every); done(at); }, seconds * 1000); })""", line.duration + 1.5)
    back = [i for i in range(1, len(heard)) if heard[i] < heard[i - 1] - 0.2]
    assert back, f"the position never went back to the line's start: {heard}"
    assert heard[back[0] - 1] >= line.end - 0.1 and heard[back[0]] == pytest.approx(line.start, abs=0.15)
    assert max(heard) < line.end + 0.3, "it never plays on past the line"
    page.context.close()


@pytest.mark.browser
def test_a_decision_in_the_editor_recolours_its_block_without_a_reload(served, browser):
    ctx, project, _, url = served
    line = scripting.script(ctx, project).lines[0]  # test_ui approves this one too
    page = sign_in(browser, url, "lena")
    _open_programme(page, project)
    page.click(f"#programme-view .pv-block[data-line='{line.id}']")
    page.wait_for_selector(f"#review-details:has-text('{line.id}')")
    page.locator("#review-override textarea, #review-override input").first.fill("checked by ear")
    page.click("#review-approve")
    page.wait_for_selector(f"#programme-view .pv-block.pv-look-approved[data-line='{line.id}']")
    assert next(b for b in programme_view(ctx, project, LANGUAGE).blocks if b.line_id == line.id).look == "approved"
    page.context.close()


@pytest.mark.browser
def test_a_line_opened_from_the_table_or_by_its_id_is_highlighted_and_sought(served, browser):
    ctx, project, _, url = served
    last, first = scripting.script(ctx, project).lines[-1], scripting.script(ctx, project).lines[0]
    page = sign_in(browser, url, "lena")
    _open_programme(page, project)
    page.locator("#review-table").scroll_into_view_if_needed()  # the table draws its rows once in view
    cell(page, "review-table", last.id).click()
    page.wait_for_selector(f"#programme-view .pv-block.pv-current[data-line='{last.id}']")
    assert _position(page) == pytest.approx(last.start, abs=0.05)
    assert not page.locator("#programme-loop").is_checked(), "a line opened from the table does not loop by itself"
    open_line(page, first.id)
    page.wait_for_selector(f"#programme-view .pv-block.pv-current[data-line='{first.id}']")
    assert _position(page) == pytest.approx(first.start, abs=0.05)
    assert page.locator("#programme-view .pv-block.pv-current").count() == 1
    page.context.close()


@pytest.mark.browser
def test_a_video_source_shows_its_picture_and_switching_source_dub_and_mix_keeps_the_position_and_playing(served, video, browser):
    ctx, _, _, url = served
    page = sign_in(browser, url, "lena")
    _open_programme(page, video)
    assert page.locator("#programme-view video").is_visible() and page.locator("#programme-waveform").count() == 0
    assert page.locator("#programme-labels .pv-label").filter(has_text="Marta").count() == 1
    looks = page.evaluate("() => [...document.querySelectorAll('#programme-view .pv-block')].map(b => b.dataset.look)")
    assert sorted(looks) == sorted(b.look for b in programme_view(ctx, video, LANGUAGE).blocks)
    page.wait_for_function("() => document.querySelector('#programme-view video').readyState >= 1")
    page.click("#programme-play")
    page.wait_for_function("() => window.dubdeskProgramme.position() > 1.0")
    for mode in ("dub", "mix", "source", "dub"):
        before = _position(page)
        page.click(f"#programme-ab-{mode}")
        page.wait_for_function("(mode) => window.dubdeskProgramme.state.mode === mode", arg=mode, timeout=60000)
        page.wait_for_timeout(400)
        state = page.evaluate("""() => { const p = window.dubdeskProgramme, heard = p.heard();
            const video = document.querySelector('#programme-view video');
            return {at: p.position(), heard: heard.currentTime, paused: heard.paused, videoPaused: video.paused, muted: video.muted} }""")
        assert not state["paused"] and not state["videoPaused"], f"{mode}: still playing"
        assert before - 0.05 <= state["at"] <= before + 2.5, f"{mode}: the position is kept ({before} -> {state['at']})"
        assert abs(state["heard"] - state["at"]) < 0.3, f"{mode}: what is heard is at the picture's time"
        assert state["muted"] == (mode != "source")
    _keep(page, "programme-video")
    page.context.close()
