"""Line review as an editor: a filtered, coloured page of lines; one line open with its source and
dub side by side, its budget and needed rate, its voice, both players, its verdicts, the decision
on it and the script edits for it (split, merge, retime, move); next / previous; approving every
line that passed; the mix gate; above the table, the programme view (ui/programme.py). The services
decide; this page shows and asks."""
from __future__ import annotations

import gradio as gr
import pandas as pd

from dubdesk.context import Context
from dubdesk.errors import DubdeskError
from dubdesk.services import casting, delivery, desk, lines, pipeline
from dubdesk.services.desk import (
    SHOW,
    VERDICTS,
    LineQuery,
    adjacent_line,
    check_line,
    line_budget,
    mix_gate,
    regenerate_line,
    review_page,
    review_row,
    source_segment,
)
from dubdesk.services.programme import build_preview, programme_view

from . import programme
from .files import Handouts
from .guard import for_roles, person
from .projects import chosen_project

PAGE_SIZE = 50
COLUMNS = ["line", "QC", "decision", "speaker", "in", "out", "source", "dub", "text by"]
WIDTHS = ["80px", "60px", "90px", "110px", "125px", "125px", "27%", "27%", "110px"]
COLOURS = {"pass": "#d5f5dd", "approved": "#d5f5dd", "warn": "#fff1c2", "fail": "#ffd6d6", "rejected": "#ffd6d6",
           "blocked": "#e2e2e2"}
LOCALIZATION = ("localization",)
CLEAR_MESSAGES = "() => ['', '', '', '']"
CONFIRM_MIX = "(project, language, confirmed) => [project, language, confirm(`Mix and deliver ${language} now? It is signed and shelved.`)]"


def _table(rows) -> pd.io.formats.style.Styler:
    """The page as a table whose verdict and decision cells are coloured (pass / warn / fail)."""
    frame = pd.DataFrame([[r.line_id, r.worst, r.decision, r.speaker, r.timecode_in, r.timecode_out, r.source_text, r.text,
                           r.text_label] for r in rows], columns=COLUMNS)
    return frame.style.map(lambda value: f"background-color: {COLOURS[value]}" if value in COLOURS else "",
                           subset=["QC", "decision"])


def _progress(found: desk.ReviewPage) -> str:
    p = found.progress
    return (f"**{p.stage}** · {p.lines} lines · {p.spoken} spoken · {p.checked} checked · {p.failed} failing QC · "
            f"{p.approved} approved · {p.rejected} rejected · {p.blocked} blocked")


def _verdicts(row) -> str:
    if not row.qc:
        return "No QC results yet."
    return "\n".join(f"- **{check}**: {verdict} — {reason}" for check, (verdict, reason) in row.qc.items())


def _budget(row, language: str) -> str:
    budget = line_budget(row, language)
    said = f"budget **{budget.budget}** syllables, the dub says **{budget.said}**" if budget.budget else f"says {budget.said} syllables"
    over = f" (**{budget.over} over**)" if budget.over else ""
    if budget.fits is None:
        return f"{said}{over} · not fitted yet"
    verdict = "fits" if budget.fits else "**does not fit**"
    return (f"{said}{over} · slot {budget.slot_s:.2f} s · needs rate **{budget.needed_rate:.2f}** "
            f"(fastest allowed {budget.bound:.2f}): {verdict}")


def build(ctx: Context, project_choice: gr.Dropdown, handouts: Handouts) -> None:
    def project_of(project_id):
        return chosen_project(ctx, project_id)

    def query(show, verdict, speaker, search) -> LineQuery:
        return LineQuery(show or "all", speaker or "all", verdict or "all", search or "")

    @for_roles(ctx, *LOCALIZATION)
    def load(project_id, language, show, verdict, speaker, search, page, request: gr.Request):
        project = project_of(project_id)
        found = review_page(ctx, project, language, int(page or 1), PAGE_SIZE, query(show, verdict, speaker, search))
        voices = [record.profile_id for record in casting.eligible_voices(ctx, project, language)]
        return (_table(found.rows), f"page {found.page} of {found.pages} · {found.matching} line(s) shown",
                [r.line_id for r in found.rows], gr.update(choices=["all", *found.speakers]), _progress(found),
                gr.update(choices=voices), gr.update(choices=found.speakers))

    def open_line(project_id, language, line_id, request: gr.Request):
        """The line's view, with empty note and override boxes (they were written for another line)
        and the take shown, which a decision must still be about."""
        project = project_of(project_id)
        row = review_row(ctx, project, language, line_id.strip())
        return (*line_view(project, row, language, request), "", "", row.clip_id, row.source_text, gr.update(value=row.voice),
                row.start, row.end, gr.update(value=row.speaker), "")

    def line_view(project, row, language, request):
        dub = handouts.give(request, ctx.folder(project) / row.clip_path if row.clip_path else None)
        character = (project.characters or {}).get(row.speaker)
        return (row.line_id, row.text, row.version, handouts.give(request, source_segment(ctx, project, row.line_id)),
                dub, f"**{row.line_id}** · {row.speaker}{f' ({character})' if character else ''} · "
                f"{row.timecode_in}–{row.timecode_out} · {row.decision} · voice {row.voice or '-'} · text: {row.text_label}\n\n"
                f"{_budget(row, language)}\n\n{_verdicts(row)}")

    open_guarded = for_roles(ctx, *LOCALIZATION)(open_line)

    @for_roles(ctx, *LOCALIZATION)
    def select(project_id, language, ids, event: gr.SelectData, request: gr.Request):
        return open_line(project_id, language, ids[event.index[0]], request)

    def step(direction: int):
        @for_roles(ctx, *LOCALIZATION)
        def handler(project_id, language, line_id, show, verdict, speaker, search, request: gr.Request):
            project = project_of(project_id)
            return open_line(project_id, language, adjacent_line(ctx, project, language, (line_id or "").strip(), direction,
                                                                 query(show, verdict, speaker, search)), request)
        return handler

    @for_roles(ctx, *LOCALIZATION)
    def regenerate(project_id, language, line_id, text, version, voice, request: gr.Request):
        project = project_of(project_id)
        row = regenerate_line(ctx, project, line_id, language, text, person(ctx, request).name, int(version), voice or None)
        _, text, version, _, dub, details = line_view(project, row, language, request)
        # the source has not changed; the reviewer now hears the new take, and its QC follows
        return text, version, dub, details, f"{line_id} regenerated; checking it…", row.clip_id, line_id

    @for_roles(ctx, *LOCALIZATION)
    def check(project_id, language, line_id, request: gr.Request):
        """QC of a line just regenerated (`line_id` is empty when regenerating was refused)."""
        if not line_id:
            return gr.skip()
        project = project_of(project_id)
        row = check_line(ctx, project, line_id, language)
        return line_view(project, row, language, request)[5], f"{line_id} regenerated and checked", None

    def decide(approve: bool):
        @for_roles(ctx, *LOCALIZATION)
        def handler(project_id, language, line_id, note, override, clip_id, request: gr.Request):
            if clip_id is None:
                raise DubdeskError("open a line first (click it in the table, or type its id and press Enter)")
            project = project_of(project_id)
            desk.review(ctx, project, line_id, language, person(ctx, request).name, approve,
                        note=note or None, override_reason=override or None, expected_clip_id=clip_id)
            details = open_line(project_id, language, line_id, request)[5]
            return details, f"{line_id} {'approved' if approve else 'rejected'}"
        return handler

    @for_roles(ctx, *LOCALIZATION)
    def approve_passed(project_id, language, request: gr.Request):
        """Only the lines that passed every check: a failing line is never approved in bulk here."""
        done = desk.approve_all(ctx, project_of(project_id), language, person(ctx, request).name)
        return f"Approved {len(done.passed)} line(s) that passed every check; {len(done.left)} left for you to decide"

    def edited(line_id, change, done: str) -> str:
        made = ", ".join(line.id for line in change.lines)
        return (f"{line_id} {done} ({made or 'no line left'}); {len(change.to_speak_again)} line(s) to speak again: "
                f"press “Bring the changed lines up to date”")

    def opened(line_id) -> str:
        if not (line_id or "").strip():
            raise DubdeskError("open a line first (click it in the table, or type its id and press Enter)")
        return line_id.strip()

    @for_roles(ctx, *LOCALIZATION)
    def split(project_id, language, line_id, word, request: gr.Request):
        change = lines.split_line(ctx, project_of(project_id), opened(line_id), at_word=int(word or 0), by=person(ctx, request).name)
        return edited(line_id, change, "split")

    @for_roles(ctx, *LOCALIZATION)
    def merge(project_id, language, line_id, later, request: gr.Request):
        change = lines.merge_lines(ctx, project_of(project_id), opened(line_id), (later or "").strip(), by=person(ctx, request).name)
        return edited(line_id, change, "merged")

    @for_roles(ctx, *LOCALIZATION)
    def retime(project_id, language, line_id, start_s, end_s, request: gr.Request):
        change = lines.retime_line(ctx, project_of(project_id), opened(line_id), float(start_s), float(end_s),
                                   by=person(ctx, request).name)
        return edited(line_id, change, "retimed")

    @for_roles(ctx, *LOCALIZATION)
    def move(project_id, language, line_id, speaker_to, request: gr.Request):
        change = lines.move_line(ctx, project_of(project_id), opened(line_id), speaker_to or "", by=person(ctx, request).name)
        return edited(line_id, change, "moved")

    @for_roles(ctx, *LOCALIZATION)
    def bring_up_to_date(project_id, language, voice, request: gr.Request, progress=gr.Progress()):
        """Every stage up to review for what the edits changed (unchanged lines and decisions stand);
        a speaker new to the script gets the voice chosen for this line."""
        if not voice:
            raise DubdeskError("choose a voice (for a speaker no one has cast yet)")

        def report(stage, done=None, total=None):
            progress((done or 0, total) if total else 0, desc=f"{stage} {done or 0}/{total}" if total else stage)

        dub = pipeline.prepare_dub(ctx, project_of(project_id), language, voice, report, by=person(ctx, request).name)
        return f"Up to date: {len(dub.results)} line(s) checked, {len(dub.refused)} not spoken"

    @for_roles(ctx, *LOCALIZATION)
    def mix(project_id, language, confirmed, request: gr.Request):
        if not confirmed:
            return "Delivery cancelled"
        project = project_of(project_id)
        closed = mix_gate(ctx, project, language)
        if closed:
            return closed
        return f"Delivered: {delivery.deliver_to_shelf(ctx, project, language, person(ctx, request).name).name}"

    @for_roles(ctx, *LOCALIZATION)
    def open_programme(project_id, language, request: gr.Request):
        """The programme view of the whole dub, whatever page or filter the table shows (after the
        table, which says why when no project is chosen)."""
        if not project_id:
            return ""
        return programme.view_json(programme_view(ctx, project_of(project_id), language), language, handouts, request)

    def make_preview(kind: str):
        @for_roles(ctx, *LOCALIZATION)
        def handler(project_id, language, request: gr.Request):
            view = build_preview(ctx, project_of(project_id), language, kind)
            return programme.view_json(view, language, handouts, request)
        return handler

    def cleared():
        """A project just chosen: the previous one's table and programme go (its messages went at once, in the browser)."""
        return None, [], ""

    gr.Markdown("Keys: **Alt+S** play source · **Alt+D** play dub · **Alt+N** / **Alt+P** next / previous line · "
                "**Alt+A** approve · **Alt+R** reject", elem_id="review-keys")
    with gr.Row():
        language = gr.Textbox(label="Language", value="es", elem_id="review-language", scale=1, min_width=80)
        show = gr.Dropdown(list(SHOW), value="all", label="Decision", elem_id="review-show", scale=1, min_width=120)
        verdict = gr.Dropdown(list(VERDICTS), value="all", label="QC", elem_id="review-verdict", scale=1, min_width=90)
        speaker = gr.Dropdown(["all"], value="all", label="Speaker", elem_id="review-speaker", scale=1, min_width=120)
        search = gr.Textbox(label="Search (line, source or dub)", elem_id="review-search", scale=2)
        page = gr.Number(value=1, precision=0, label="Page", elem_id="review-page", scale=1, min_width=70)
        load_button = gr.Button("Load lines", elem_id="review-load", scale=1, min_width=90)
    progress_line = gr.Markdown(elem_id="review-progress")
    with gr.Row():
        page_info = gr.Markdown(elem_id="review-page-info")
        approve_passed_button = gr.Button("Approve the lines that passed every check", elem_id="review-approve-passed",
                                          scale=0, min_width=320)
    view = programme.panel()
    table = gr.Dataframe(headers=COLUMNS, interactive=False, wrap=True, column_widths=WIDTHS, max_height=420,
                         elem_id="review-table")
    ids = gr.State([])
    with gr.Row():
        previous_button = gr.Button("◀ Previous", elem_id="review-previous", scale=0, min_width=110)
        line_id = gr.Textbox(label="Line (type an id and press Enter)", elem_id="review-line", scale=1)
        next_button = gr.Button("Next ▶", elem_id="review-next", scale=0, min_width=110)
    details = gr.Markdown(elem_id="review-details")
    with gr.Row(equal_height=True):
        source_text = gr.Textbox(label="Source", lines=3, interactive=False, elem_id="review-source-text")
        text = gr.Textbox(label="Dub text", lines=3, elem_id="review-text")
    version = gr.Number(visible=False, precision=0)
    with gr.Row():
        # a revoked voice stays shown (the server refuses it, saying why)
        voice = gr.Dropdown([], label="Voice for this line", allow_custom_value=True, elem_id="review-voice", scale=1)
        source_player = gr.Audio(label="Source", type="filepath", interactive=False, elem_id="review-source", scale=2)
        dub_player = gr.Audio(label="Dub", type="filepath", interactive=False, elem_id="review-dub", scale=2)
    with gr.Row():
        note = gr.Textbox(label="Note (for a rejection)", elem_id="review-note")
        override = gr.Textbox(label="Override reason (approve over a QC fail)", elem_id="review-override")
    with gr.Row():
        regenerate_button = gr.Button("Regenerate this line", elem_id="review-regenerate")
        approve_button = gr.Button("Approve", variant="primary", elem_id="review-approve")
        reject_button = gr.Button("Reject", variant="stop", elem_id="review-reject")
    with gr.Accordion("Edit the script: split, merge, retime, move", open=False, elem_id="review-script"):
        with gr.Row():
            split_word = gr.Number(value=2, precision=0, label="Split before word number", elem_id="review-split-word")
            split_button = gr.Button("Split", elem_id="review-split")
            merge_with = gr.Textbox(label="Merge with the later line", elem_id="review-merge-with")
            merge_button = gr.Button("Merge", elem_id="review-merge")
        with gr.Row():
            start = gr.Number(label="Start (s)", elem_id="review-start")
            end = gr.Number(label="End (s)", elem_id="review-end")
            retime_button = gr.Button("Retime", elem_id="review-retime")
            move_to = gr.Dropdown([], label="Move to speaker", allow_custom_value=True, elem_id="review-move-to")
            move_button = gr.Button("Move", elem_id="review-move")
        update_button = gr.Button("Bring the changed lines up to date (translate, speak, fit, check)", elem_id="review-update")
    with gr.Row():
        mix_button = gr.Button("Mix and deliver", elem_id="review-mix")
    status = gr.Markdown(elem_id="review-status")
    confirmed = gr.Checkbox(visible=False)
    clip_id = gr.State(None)  # the take the reviewer opened; a decision is refused once the line has another
    checking = gr.State(None)  # the line just regenerated, whose QC follows

    line_outputs = [line_id, text, version, source_player, dub_player, details, note, override, clip_id, source_text,
                    voice, start, end, move_to, merge_with]
    filters = [project_choice, language, show, verdict, speaker, search, page]
    page_outputs = [table, page_info, ids, speaker, progress_line, voice, move_to]
    refresh = {"fn": load, "inputs": filters, "outputs": page_outputs, "api_visibility": "private"}
    redraw = {"fn": open_programme, "inputs": [project_choice, language], "outputs": view.data, "api_visibility": "private"}

    def refreshed(event) -> None:
        """After an action: the page of lines, then the programme's blocks as they now are."""
        event.then(**refresh).then(**redraw)

    load_button.click(load, filters, page_outputs, api_name="load").then(open_programme, [project_choice, language], view.data,
                                                                         api_name="programme")
    page.submit(load, filters, page_outputs, api_visibility="private")
    search.submit(load, filters, page_outputs, api_visibility="private")
    # in the browser first, so a line opened right after is not wiped by a late answer
    project_choice.change(None, None, [page_info, progress_line, details, status], js=CLEAR_MESSAGES)
    project_choice.change(cleared, None, [table, ids, view.data], api_visibility="private")
    table.select(select, [project_choice, language, ids], line_outputs)
    # the programme is drawn in the browser, and follows the line open in the editor
    view.data.change(None, view.data, None, js=programme.RENDER)
    line_id.change(None, line_id, None, js=programme.FOLLOW)
    for kind, button in view.builds.items():
        button.click(make_preview(kind), [project_choice, language], view.data, api_name=f"{kind}_preview")
    line_id.submit(open_guarded, [project_choice, language, line_id], line_outputs, api_name="open_line")
    moving = [project_choice, language, line_id, show, verdict, speaker, search]
    previous_button.click(step(-1), moving, line_outputs, api_name="previous_line")
    next_button.click(step(1), moving, line_outputs, api_name="next_line")
    refreshed(regenerate_button.click(regenerate, [project_choice, language, line_id, text, version, voice],
                                      [text, version, dub_player, details, status, clip_id, checking], api_name="regenerate").then(
        check, [project_choice, language, checking], [details, status, checking]))
    decision = [project_choice, language, line_id, note, override, clip_id]
    refreshed(approve_button.click(decide(True), decision, [details, status], api_name="approve"))
    refreshed(reject_button.click(decide(False), decision, [details, status], api_name="reject"))
    refreshed(approve_passed_button.click(approve_passed, [project_choice, language], status, api_name="approve_passed"))
    edits = ((split_button, split, [split_word], "split_line"), (merge_button, merge, [merge_with], "merge_lines"),
             (retime_button, retime, [start, end], "retime_line"), (move_button, move, [move_to], "move_line"))
    for button, handler, values, name in edits:
        refreshed(button.click(handler, [project_choice, language, line_id, *values], status, api_name=name))
    refreshed(update_button.click(bring_up_to_date, [project_choice, language, voice], status, api_name="bring_up_to_date"))
    mix_button.click(mix, [project_choice, language, confirmed], status, js=CONFIRM_MIX, api_name="mix")

