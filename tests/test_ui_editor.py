"""The review desk as an editor, driven in headless Chromium as a localization person would use it:
the line editor, casting, throughput (filters, bulk approval of passed lines, keys, progress),
confirmations, logout and the audit page; and every new action refused on the server to other roles.

Works on the served project (conftest's, one per session, shared with test_ui), first recast to a voice of its own so the
module does not depend on test_ui's revocation. Screenshots go to test_ui's screenshots folder; the
line editor and the review table are also copied to /tmp/editor-shots/.
"""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from dubdesk.access import user
from dubdesk.audio import decode_audio
from dubdesk.core import Fit, Line
from dubdesk.errors import DubdeskError
from dubdesk.labels import write_labelled_wav
from dubdesk.phonemes import syllable_counts
from dubdesk.script import MIN_LINE_S
from dubdesk.services import casting, desk, pipeline, portal, projects, scripting, speech
from dubdesk.services.desk import LineQuery, ReviewRow, desk_progress, review_rows
from dubdesk.store.audit import audit_events

from .conftest import SAMPLE
from .test_ui import LANGUAGE, PASSWORD, SHOTS, browser, cell, choose, expect_message, open_line, open_review, shot, sign_in

__all__ = ["browser"]  # test_ui's fixture; `served` is conftest's, shared with test_ui for the session

EDITOR_SHOTS = Path("/tmp/editor-shots")
COLOURED = {"rgb(213, 245, 221)", "rgb(255, 241, 194)", "rgb(255, 214, 214)", "rgb(226, 226, 226)"}


def _row(line_id="L0001", speaker="A", source="Good morning.", text="Buenos días.", verdict="pass", decision="pending",
         clip_id: int | None = 1) -> ReviewRow:
    qc = {"timing": (verdict, "checked")} if verdict != "-" else {}
    return ReviewRow(line_id, speaker, 0.0, 1.0, "00:00:00:00", "00:00:01:00", source, text, 1, None, qc, decision, clip_id,
                     "voice", 4, None)


@pytest.mark.fast
def test_a_query_finds_words_in_any_case_and_keeps_to_the_chosen_verdict_decision_and_speaker():
    row = _row(verdict="fail", decision="rejected")
    assert LineQuery(text="MORNING").matches(row) and LineQuery(text="días").matches(row) and LineQuery(text="l0001").matches(row)
    assert not LineQuery(text="evening").matches(row)
    assert LineQuery(verdict="fail", show="rejected", speaker="A").matches(row)
    assert not LineQuery(verdict="pass").matches(row) and not LineQuery(show="approved").matches(row)
    assert not LineQuery(speaker="B").matches(row) and LineQuery(show="failed QC").matches(row)


@pytest.mark.fast
def test_progress_names_the_stage_from_the_line_counts():
    assert desk_progress([_row(clip_id=None), _row()]).stage == "speaking"
    assert desk_progress([_row(verdict="-")]).stage == "checking"
    mixed = desk_progress([_row(decision="approved"), _row(verdict="fail"), _row(decision="rejected")])
    assert (mixed.stage, mixed.lines, mixed.approved, mixed.failed, mixed.rejected) == ("review", 3, 1, 1, 1)
    assert desk_progress([_row(decision="approved")]).stage == "ready to mix"


@pytest.mark.fast
def test_a_lines_budget_says_how_many_syllables_are_over_and_the_rate_the_take_needs():
    fit = Fit(0.0, 1.0, 1.2, 2.0, 1.25, 1.6, 1.6, (0.8, 1.25), False, "x.wav", "0", engine_speed=1.1)
    budget = desk.line_budget(replace(_row(text="Buenos días, señora."), fit=fit), "es")
    said = syllable_counts(["Buenos días, señora."], "es")[0]  # as spoken: 6 or 7, however the voice joins them
    assert (budget.budget, budget.said, budget.over) == (4, said, said - 4) and said > 4
    assert (budget.slot_s, budget.fits) == (1.2, False)
    assert (budget.needed_rate, budget.bound) == pytest.approx((1.76, 1.375)), "in overall rates, as Fit.reason gives them"
    assert desk.line_budget(_row(text="Sí."), "es").fits is None


def _reference(folder: Path, name: str, start_s: int) -> Path:
    return write_labelled_wav(folder / f"{name}.wav", decode_audio(SAMPLE)[16000 * start_s:16000 * (start_s + 10)], 16000,
                              "reference", "vic", "reference")


@pytest.fixture(scope="module")
def editor(served, tmp_path_factory):
    """The served project recast to a voice of the module's own and prepared again (whatever test_ui
    revoked), with the module's voices: that one, and one whose consent covers only French."""
    ctx, project, _, url = served
    folder, vic = tmp_path_factory.mktemp("editor-voices"), user(ctx.sessions, "vic")
    voice = portal.create_profile(ctx, vic, "Vic Dos", [LANGUAGE], ["dubbing"], None, "contract 8",
                                  [_reference(folder, "dos", 15)]).profile_id
    french = portal.create_profile(ctx, vic, "Vic Français", ["fr"], ["dubbing"], None, "contract 9",
                                   [_reference(folder, "fr", 5)]).profile_id
    for speaker in scripting.script(ctx, project).speakers:
        casting.cast(ctx, project, speaker, LANGUAGE, voice)
    pipeline.prepare_dub(ctx, project, LANGUAGE, voice)
    return ctx, project, url, voice, french


def _keep(page, name: str) -> None:
    shot(page, name)
    EDITOR_SHOTS.mkdir(exist_ok=True)
    shutil.copy(SHOTS / f"{name}.png", EDITOR_SHOTS / f"{name}.png")


def _rows(ctx, project) -> dict[str, ReviewRow]:
    return {row.line_id: row for row in review_rows(ctx, project, LANGUAGE)}


@pytest.mark.browser
def test_verdict_and_decision_columns_are_coloured_and_in_view_at_1366_px_with_the_progress_above(editor, browser):
    ctx, project, url, *_ = editor
    page = sign_in(browser, url, "lena")
    page.set_viewport_size({"width": 1366, "height": 900})
    open_review(page, project)
    progress = desk_progress(review_rows(ctx, project, LANGUAGE))
    expect_message(page, f"{progress.lines} lines · {progress.spoken} spoken · {progress.checked} checked")
    assert progress.stage in page.inner_text("#review-progress")
    first = scripting.script(ctx, project).lines[0].id
    cell(page, "review-table", first).wait_for()
    for header in ("QC", "decision"):
        box = page.locator("#review-table th >> visible=true").filter(has_text=header).first.bounding_box()
        assert box["x"] + box["width"] <= 1366, f"the {header} column is off-screen"
    backgrounds = page.evaluate("""() => [...document.querySelectorAll('#review-table .body-cell')]
        .filter(td => td.offsetParent !== null && /^(pass|warn|fail|pending|approved|rejected|blocked)$/.test(td.innerText.trim()))
        .map(td => getComputedStyle(td).backgroundColor)""")
    assert backgrounds and set(backgrounds) & COLOURED, backgrounds
    _keep(page, "review-table")
    page.context.close()


@pytest.mark.browser
def test_the_line_editor_shows_source_beside_dub_with_budget_rate_and_voice_and_steps_by_keys(editor, browser):
    ctx, project, url, voice, _ = editor
    script = scripting.script(ctx, project)
    first, second = script.lines[0], script.lines[1]
    page = sign_in(browser, url, "lena")
    open_review(page, project)
    open_line(page, first.id)
    source = page.locator("#review-source-text textarea").first
    dub = page.locator("#review-text textarea").first
    assert source.input_value() == first.text and dub.input_value() == _rows(ctx, project)[first.id].text
    left, right = source.bounding_box(), dub.bounding_box()
    assert left["x"] + left["width"] <= right["x"] and abs(left["y"] - right["y"]) < 5, "source and dub side by side"
    details = page.inner_text("#review-details")
    assert "budget" in details and "needs rate" in details and f"voice {voice}" in details
    assert page.locator("#review-voice input").first.input_value() == voice
    _keep(page, "line-editor")

    page.keyboard.press("Alt+n")
    page.wait_for_selector(f"#review-details:has-text('{second.id}')")
    page.keyboard.press("Alt+p")
    page.wait_for_selector(f"#review-details:has-text('{first.id}')")
    page.click("#review-next")
    page.wait_for_selector(f"#review-details:has-text('{second.id}')")
    page.click("#review-previous")
    page.wait_for_selector(f"#review-details:has-text('{first.id}')")
    page.click("#review-previous")
    expect_message(page, f"{first.id} is the first line shown")

    page.keyboard.press("Alt+s")  # plays the source: its player's button turns to Pause
    page.wait_for_selector("#review-source button.play-pause-button[aria-label=Pause]")
    page.context.close()


@pytest.mark.browser
def test_keys_approve_and_reject_the_open_line_and_the_table_follows_without_a_reload(editor, browser):
    ctx, project, url, *_ = editor
    first, second = (line.id for line in scripting.script(ctx, project).lines[:2])
    page = sign_in(browser, url, "lena")
    open_review(page, project)
    open_line(page, first)
    page.locator("#review-override textarea, #review-override input").first.fill("checked by ear")
    page.keyboard.press("Alt+a")
    expect_message(page, f"{first} approved")
    page.locator("#review-table .virtual-row >> visible=true").filter(has_text=first).filter(has_text="approved").first.wait_for()
    open_line(page, second)
    page.locator("#review-note textarea, #review-note input").first.fill("too fast")
    page.keyboard.press("Alt+r")
    expect_message(page, f"{second} rejected")
    page.locator("#review-table .virtual-row >> visible=true").filter(has_text=second).filter(has_text="rejected").first.wait_for()
    rows = _rows(ctx, project)
    assert (rows[first].decision, rows[second].decision) == ("approved", "rejected")
    page.context.close()


@pytest.mark.browser
def test_search_and_the_verdict_and_decision_filters_narrow_the_table(editor, browser):
    ctx, project, url, *_ = editor
    rows = list(_rows(ctx, project).values())
    target = rows[-1]
    word = max(target.text.split(), key=len).strip(".,;:!?¿¡")
    page = sign_in(browser, url, "lena")
    open_review(page, project)
    page.locator("#review-search textarea, #review-search input").first.fill(word.upper())
    page.click("#review-load")
    shown = [r for r in rows if LineQuery(text=word).matches(r)]
    expect_message(page, f"{len(shown)} line(s) shown")
    cell(page, "review-table", target.line_id).wait_for()
    page.locator("#review-search textarea, #review-search input").first.fill("")
    choose(page, "review-show", "rejected")
    page.click("#review-load")
    rejected = [r for r in rows if r.decision == "rejected"]
    expect_message(page, f"{len(rejected)} line(s) shown")
    choose(page, "review-show", "all")
    choose(page, "review-verdict", "fail")
    page.click("#review-load")
    expect_message(page, f"{sum(r.worst == 'fail' for r in rows)} line(s) shown")
    page.context.close()


@pytest.mark.browser
def test_approving_the_passed_lines_leaves_every_failing_line_undecided_and_is_audited_as_one_action(editor, browser):
    ctx, project, url, *_ = editor
    before = _rows(ctx, project)
    passed = {i for i, r in before.items() if r.decision == "pending" and r.qc and r.worst != "fail"}
    failing = {i for i, r in before.items() if r.decision == "pending" and r.worst == "fail"}
    page = sign_in(browser, url, "lena")
    open_review(page, project)
    page.click("#review-approve-passed")
    expect_message(page, f"Approved {len(passed)} line(s) that passed every check")
    after = _rows(ctx, project)
    assert {i for i, r in after.items() if r.decision == "approved" and before[i].decision == "pending"} == passed
    assert all(after[i].decision == "pending" for i in failing)
    bulk = audit_events(ctx.sessions, actor="lena", action="approved in bulk")[0]
    assert (bulk.project_id, bulk.detail["passed"], bulk.detail["override_reason"]) == (project.id, len(passed), None)
    page.context.close()


@pytest.mark.browser
def test_casting_names_a_character_offers_only_consented_voices_and_recasts_after_a_revocation(editor, browser, tmp_path):
    ctx, project, url, voice, french = editor
    speaker = scripting.script(ctx, project).speakers[0]
    gone = portal.create_profile(ctx, user(ctx.sessions, "vic"), "Vic Tres", [LANGUAGE], ["dubbing"], None, "contract 10",
                                 [_reference(tmp_path, "tres", 20)]).profile_id
    casting.cast(ctx, project, speaker, LANGUAGE, gone)
    speech.revoke_voice(ctx, gone, "the actor withdrew", by="vic")
    assert next(r for r in casting.cast_sheet(ctx, project, LANGUAGE) if r.speaker == speaker).needs_voice

    page = sign_in(browser, url, "lena")
    page.click("[role=tab]:has-text('Casting')")
    choose(page, "project-choice", f"{project.id} {project.name}")
    page.click("#casting-load")
    cell(page, "casting-table", "recast").wait_for()
    page.click("#casting-voice input")
    offered = [o.inner_text().strip() for o in page.query_selector_all("[role=option]")]
    page.keyboard.press("Escape")
    assert voice in offered and gone not in offered and french not in offered
    choose(page, "casting-speaker", speaker)
    page.locator("#casting-character textarea, #casting-character input").first.fill("Marta")
    page.click("#casting-name")
    expect_message(page, f"{speaker} is Marta")
    choose(page, "casting-voice", voice)
    page.click("#casting-cast")
    expect_message(page, f"{speaker} cast to {voice}")
    shot(page, "casting")
    assert casting.castings(ctx, project, LANGUAGE)[speaker] == voice
    assert projects.project(ctx, project.id).characters[speaker] == "Marta"
    assert audit_events(ctx.sessions, actor="lena", action="cast")[0].detail["voice_profile"] == voice
    page.context.close()


def _splittable(script) -> tuple[Line, int]:
    """A line and the word to split it at leaving both parts long enough (a shorter part is refused)."""
    for line in script.lines:
        for number in range(2, len(line.words) + 1):
            cut = line.words[number - 1].start
            if min(line.words[number - 2].end, cut) - line.start >= MIN_LINE_S and line.end - cut >= MIN_LINE_S:
                return line, number
    raise AssertionError("no line of the test project can be split")


@pytest.mark.browser
def test_split_merge_retime_and_move_from_the_editor_then_the_changed_lines_are_spoken_again(editor, browser):
    ctx, project, url, voice, _ = editor
    line, word = _splittable(scripting.script(ctx, project))
    page = sign_in(browser, url, "lena")
    open_review(page, project)
    open_line(page, line.id)
    page.click("#review-script")
    page.locator("#review-split-word input").first.fill(str(word))
    page.click("#review-split")
    expect_message(page, f"{line.id} split")
    new_id = next(other.id for other in scripting.script(ctx, project).lines if other.id.startswith(f"{line.id}."))
    page.locator("#review-merge-with textarea, #review-merge-with input").first.fill(new_id)
    page.click("#review-merge")
    expect_message(page, f"{line.id} merged")
    assert new_id not in {other.id for other in scripting.script(ctx, project).lines}
    page.locator("#review-start input").first.fill(f"{line.start + 0.05:.2f}")
    page.click("#review-retime")
    expect_message(page, f"{line.id} retimed")
    page.locator("#review-move-to input").first.fill("NARRATOR")
    page.keyboard.press("Enter")
    page.click("#review-move")
    expect_message(page, f"{line.id} moved")
    edited = next(other for other in scripting.script(ctx, project).lines if other.id == line.id)
    assert edited.start == pytest.approx(line.start + 0.05, abs=0.01) and edited.speaker == "NARRATOR"
    assert [e.action for e in audit_events(ctx.sessions, line_id=line.id, actor="lena")][:4] == [
        "line moved", "line retimed", "lines merged", "line split"]
    assert _rows(ctx, project)[line.id].clip_id is None, "the edited line's take no longer counts"

    page.click("#review-update")
    page.wait_for_selector("#review-status:has-text('Up to date:')", timeout=180000)
    row = _rows(ctx, project)[line.id]
    assert row.clip_id is not None and row.qc and row.voice == voice
    page.context.close()


@pytest.mark.browser
def test_deliver_and_revoke_ask_first_and_revoke_refuses_an_empty_reason(editor, browser):
    ctx, project, url, _, french = editor
    page = sign_in(browser, url, "lena")
    open_review(page, project)
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#review-mix")
    expect_message(page, "Delivery cancelled")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#review-mix")
    expect_message(page, "Mix unavailable")
    page.context.close()

    with pytest.raises(DubdeskError, match="say why"):
        portal.revoke(ctx, user(ctx.sessions, "vic"), french, "  ")
    actor = sign_in(browser, url, "vic")
    actor.click("#voices-refresh")
    choose(actor, "voices-chosen", french)
    actor.once("dialog", lambda dialog: dialog.dismiss())
    actor.click("#voices-revoke")
    expect_message(actor, "Nothing revoked")
    actor.once("dialog", lambda dialog: dialog.accept())
    actor.click("#voices-revoke")
    expect_message(actor, "say why you withdraw consent")
    actor.context.close()
    assert not ctx.registry.current(french).revoked


@pytest.mark.browser
def test_the_audit_page_filters_by_line_person_and_kind(editor, browser):
    ctx, project, url, *_ = editor
    first = scripting.script(ctx, project).lines[0].id
    page = sign_in(browser, url, "ada")
    page.click("[role=tab]:has-text('Audit log')")
    page.locator("#audit-line textarea, #audit-line input").first.fill(first)
    page.locator("#audit-person textarea, #audit-person input").first.fill("lena")
    page.click("#audit-refresh")
    cell(page, "audit-table", "approved").wait_for()
    shown = page.evaluate("""() => [...document.querySelectorAll('#audit-table .virtual-row')].filter(r => r.offsetParent !== null)
        .map(r => [...r.querySelectorAll('.body-cell')].map(c => c.innerText.trim()))""")
    expected = audit_events(ctx.sessions, line_id=first, actor="lena")
    assert len([row for row in shown if any(row)]) == len(expected) > 0
    assert all(row[1] == "lena" and row[4] == first for row in shown if any(row))
    choose(page, "audit-kind", "approved in bulk")
    page.locator("#audit-line textarea, #audit-line input").first.fill("")
    page.click("#audit-refresh")
    cell(page, "audit-table", "approved in bulk").wait_for()
    shot(page, "audit-filtered")
    page.context.close()


@pytest.mark.browser
def test_a_new_project_chosen_clears_the_previous_ones_lines_and_message_and_logout_signs_out(editor, browser, make_media):
    ctx, project, url, *_ = editor
    other = projects.create_project(ctx, make_media("editor-other.flac", seconds=3.0), name="Other show")
    page = sign_in(browser, url, "lena")
    open_review(page, project)
    page.click("#review-mix")  # dismissed: "Delivery cancelled"
    expect_message(page, "Delivery cancelled")
    choose(page, "project-choice", f"{other.id} {other.name}")
    page.wait_for_function("() => !document.querySelector('#review-status').innerText.includes('cancelled')")
    assert page.inner_text("#review-page-info").strip() == ""
    page.click("#logout")
    page.wait_for_selector("input[type=password]")
    page.goto(url)
    page.wait_for_selector("input[type=password]")
    page.context.close()


NEW_ACTIONS = {  # api name -> arguments (dropdowns left empty: Gradio checks a choice before the handler runs)
    "/load": lambda p, line: (p, LANGUAGE, "all", "all", "all", "", 1),
    "/next_line": lambda p, line: (p, LANGUAGE, line, "all", "all", "all", ""),
    "/previous_line": lambda p, line: (p, LANGUAGE, line, "all", "all", "all", ""),
    "/regenerate": lambda p, line: (p, LANGUAGE, line, "Hola.", 1, None),
    "/approve_passed": lambda p, line: (p, LANGUAGE),
    "/split_line": lambda p, line: (p, LANGUAGE, line, 2),
    "/merge_lines": lambda p, line: (p, LANGUAGE, line, "L0002"),
    "/retime_line": lambda p, line: (p, LANGUAGE, line, 0.5, 1.5),
    "/move_line": lambda p, line: (p, LANGUAGE, line, "INTRUDER"),
    "/bring_up_to_date": lambda p, line: (p, LANGUAGE, None),
    "/mix": lambda p, line: (p, LANGUAGE, True),
    "/load_cast": lambda p, line: (p, LANGUAGE),
    "/name_character": lambda p, line: (p, LANGUAGE, None, "Intruder"),
    "/cast_voice": lambda p, line: (p, LANGUAGE, None, None),
}


def _refusal(client, api_name: str, arguments: tuple) -> str:
    try:
        client.predict(*arguments, api_name=api_name)
    except Exception as error:  # noqa: BLE001 - what the server answered is the finding
        return str(error)
    return "done"


@pytest.mark.browser
def test_only_localization_may_edit_approve_or_cast_whatever_the_caller_sends(editor):
    from gradio_client import Client

    ctx, project, url, *_ = editor
    line = scripting.script(ctx, project).lines[0].id
    label = f"{project.id} {project.name}"
    events_before = len(audit_events(ctx.sessions))
    cast_before, characters_before = casting.castings(ctx, project, LANGUAGE), projects.project(ctx, project.id).characters
    for name in ("vic", "dora", "ada"):
        client = Client(url, auth=(name, PASSWORD), verbose=False, download_files=False)
        answers = {api_name: _refusal(client, api_name, arguments(label, line)) for api_name, arguments in NEW_ACTIONS.items()}
        assert all("may not do this" in answer for answer in answers.values()), (name, answers)
    for name in ("vic", "dora"):
        with pytest.raises(Exception, match="may not do this"):
            Client(url, auth=(name, PASSWORD), verbose=False).predict("", "", "all", api_name="/audit")
    assert len(audit_events(ctx.sessions)) == events_before
    assert casting.castings(ctx, project, LANGUAGE) == cast_before
    assert projects.project(ctx, project.id).characters == characters_before


@pytest.mark.browser
def test_stepping_past_the_filtered_lines_names_the_end_and_crosses_pages(editor):
    ctx, project, *_ = editor
    ids = [row.line_id for row in review_rows(ctx, project, LANGUAGE)]
    assert desk.adjacent_line(ctx, project, LANGUAGE, ids[0], 1) == ids[1]
    assert desk.adjacent_line(ctx, project, LANGUAGE, "not shown", -1) == ids[-1]
    with pytest.raises(LookupError, match="is the last line shown"):
        desk.adjacent_line(ctx, project, LANGUAGE, ids[-1], 1)
    with pytest.raises(LookupError, match="no line matches"):
        desk.adjacent_line(ctx, project, LANGUAGE, ids[0], 1, LineQuery(text="no such words anywhere"))

