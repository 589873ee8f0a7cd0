"""Line review: a page of lines, one line open with both players, its texts and verdicts, and the
actions on it; the mix gate."""
from __future__ import annotations

import gradio as gr

from dubdesk.context import Context
from dubdesk.errors import DubdeskError
from dubdesk.services import delivery, desk
from dubdesk.services.desk import (
    SHOW,
    check_line,
    mix_gate,
    regenerate_line,
    review_page,
    review_row,
    review_rows,
    source_segment,
)

from .files import Handouts
from .guard import for_roles, person
from .projects import chosen_project

PAGE_SIZE = 50
COLUMNS = ["line", "speaker", "in", "out", "source", "dub", "QC", "decision"]
LOCALIZATION = ("localization",)


def _table(rows) -> list[list[str]]:
    return [[r.line_id, r.speaker, r.timecode_in, r.timecode_out, r.source_text, r.text, r.worst, r.decision] for r in rows]


def _verdicts(row) -> str:
    if not row.qc:
        return "No QC results yet."
    return "\n".join(f"- **{check}**: {verdict} — {reason}" for check, (verdict, reason) in row.qc.items())


def build(ctx: Context, project_choice: gr.Dropdown, handouts: Handouts) -> None:
    def project_of(project_id):
        return chosen_project(ctx, project_id)

    @for_roles(ctx, *LOCALIZATION)
    def load(project_id, language, show, speaker, page, request: gr.Request):
        project = project_of(project_id)
        rows, pages = review_page(ctx, project, language, int(page or 1), PAGE_SIZE, show, speaker)
        speakers = ["all", *sorted({r.speaker for r in review_rows(ctx, project, language)})]
        return (_table(rows), f"page {min(int(page or 1), pages)} of {pages}", [r.line_id for r in rows],
                gr.update(choices=speakers))

    def open_line(project_id, language, line_id, request: gr.Request):
        """The line's view, with empty note and override boxes (they were written for another line)
        and the take shown, which a decision must still be about."""
        project = project_of(project_id)
        row = review_row(ctx, project, language, line_id.strip())
        return (*line_view(project, row, request), "", "", row.clip_id)

    def line_view(project, row, request):
        dub = handouts.give(request, ctx.folder(project) / row.clip_path if row.clip_path else None)
        return (row.line_id, row.text, row.version, handouts.give(request, source_segment(ctx, project, row.line_id)),
                dub, f"**{row.line_id}** · {row.speaker} · {row.timecode_in}–{row.timecode_out} · {row.decision}\n\n"
                f"*Source:* {row.source_text}\n\n{_verdicts(row)}")

    open_guarded = for_roles(ctx, *LOCALIZATION)(open_line)

    @for_roles(ctx, *LOCALIZATION)
    def select(project_id, language, ids, event: gr.SelectData, request: gr.Request):
        return open_line(project_id, language, ids[event.index[0]], request)

    @for_roles(ctx, *LOCALIZATION)
    def regenerate(project_id, language, line_id, text, version, request: gr.Request):
        project = project_of(project_id)
        row = regenerate_line(ctx, project, line_id, language, text, person(ctx, request).name, int(version))
        _, text, version, _, dub, details = line_view(project, row, request)
        # the source has not changed; the reviewer now hears the new take, and its QC follows
        return text, version, dub, details, f"{line_id} regenerated; checking it…", row.clip_id, line_id

    @for_roles(ctx, *LOCALIZATION)
    def check(project_id, language, line_id, request: gr.Request):
        """QC of a line just regenerated (`line_id` is empty when regenerating was refused)."""
        if not line_id:
            return gr.skip()
        row = check_line(ctx, project_of(project_id), line_id, language)
        return line_view(project_of(project_id), row, request)[-1], f"{line_id} regenerated and checked", None

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
    def mix(project_id, language, request: gr.Request):
        project = project_of(project_id)
        closed = mix_gate(ctx, project, language)
        if closed:
            return closed
        return f"Delivered: {delivery.deliver_to_shelf(ctx, project, language, person(ctx, request).name).name}"

    with gr.Row():
        language = gr.Textbox(label="Language", value="es", elem_id="review-language", scale=1)
        show = gr.Radio(list(SHOW), value="all", label="Show", elem_id="review-show", scale=3)
        speaker = gr.Dropdown(["all"], value="all", label="Speaker", elem_id="review-speaker", scale=1)
        page = gr.Number(value=1, precision=0, label="Page", elem_id="review-page", scale=1)
        load_button = gr.Button("Load lines", elem_id="review-load", scale=1)
    page_info = gr.Markdown(elem_id="review-page-info")
    table = gr.Dataframe(headers=COLUMNS, interactive=False, wrap=True, elem_id="review-table")
    ids = gr.State([])
    with gr.Row():
        with gr.Column(scale=2):
            line_id = gr.Textbox(label="Line (type an id and press Enter)", elem_id="review-line")
            details = gr.Markdown(elem_id="review-details")
            text = gr.Textbox(label="Dub text", lines=3, elem_id="review-text")
            version = gr.Number(visible=False, precision=0)
        with gr.Column(scale=1):
            source_player = gr.Audio(label="Source", type="filepath", interactive=False, elem_id="review-source")
            dub_player = gr.Audio(label="Dub", type="filepath", interactive=False, elem_id="review-dub")
    with gr.Row():
        note = gr.Textbox(label="Note (for a rejection)", elem_id="review-note")
        override = gr.Textbox(label="Override reason (approve over a QC fail)", elem_id="review-override")
    with gr.Row():
        regenerate_button = gr.Button("Regenerate this line", elem_id="review-regenerate")
        approve_button = gr.Button("Approve", variant="primary", elem_id="review-approve")
        reject_button = gr.Button("Reject", variant="stop", elem_id="review-reject")
        mix_button = gr.Button("Mix and deliver", elem_id="review-mix")
    status = gr.Markdown(elem_id="review-status")
    clip_id = gr.State(None)  # the take the reviewer opened; a decision is refused once the line has another
    checking = gr.State(None)  # the line just regenerated, whose QC follows

    line_outputs = [line_id, text, version, source_player, dub_player, details, note, override, clip_id]
    filters = [project_choice, language, show, speaker, page]
    load_button.click(load, filters, [table, page_info, ids, speaker])
    page.submit(load, filters, [table, page_info, ids, speaker])
    table.select(select, [project_choice, language, ids], line_outputs)
    line_id.submit(open_guarded, [project_choice, language, line_id], line_outputs)
    regenerate_button.click(regenerate, [project_choice, language, line_id, text, version],
                            [text, version, dub_player, details, status, clip_id, checking]).then(
        check, [project_choice, language, checking], [details, status, checking])
    decision = [project_choice, language, line_id, note, override, clip_id]
    approve_button.click(decide(True), decision, [details, status], api_name="approve")
    reject_button.click(decide(False), decision, [details, status], api_name="reject")
    mix_button.click(mix, [project_choice, language], status)
