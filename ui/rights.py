"""Rights: the rights manager records a project's title clearance and its inputs' rights; the localization
team sees them (and the mix gate lists what is not cleared). Every handler checks the role on the server."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import gradio as gr

from dubdesk.context import Context
from dubdesk.errors import DubdeskError
from dubdesk.rights.records import USES
from dubdesk.services import rights

from .guard import for_roles, person
from .projects import chosen_project

RIGHTS_MANAGER, SEES_RIGHTS = ("rights_manager",), ("rights_manager", "localization")
INPUT_COLUMNS = ["input", "owner", "cleared", "note", "document"]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError as error:
        raise DubdeskError(f"'{text}' is not a date: write it as YYYY-MM-DD") from error


def _items(text: str) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def build(ctx: Context, project_choice: gr.Dropdown) -> None:
    @for_roles(ctx, *SEES_RIGHTS)
    def status(choice, language, request: gr.Request):
        project = chosen_project(ctx, choice)
        lines = [f"**Purpose:** {project.purpose or '(not stated)'}; AI: {', '.join(project.ai_uses or []) or '-'}"]
        for history in rights.clearances(ctx, project):
            head, terms = history[-1], history[-1].terms
            state = f"revoked ({head.revocation_reason})" if head.revoked else "given"
            lines.append(f"- **{head.clearance_id}** ({state}): {terms.holder}, \"{terms.title}\", "
                         f"{', '.join(terms.languages)} in {', '.join(terms.territories)} for {', '.join(terms.uses)}, "
                         f"{terms.valid_from} to {terms.valid_until or 'open'}; document {terms.document_ref}")
        lines += [label] if (label := rights.draft_label(ctx, project, language)) else []
        rows = [[s.input, s.owner, {True: "yes", False: "no", None: "not recorded"}[s.cleared], s.note, s.document]
                for s in rights.inputs(ctx, project, language)]
        return "\n".join(lines), rows

    @for_roles(ctx, *RIGHTS_MANAGER)
    def record_clearance(choice, holder, title, languages, territories, uses, start, until, document, reference,
                         request: gr.Request):
        if not document:
            raise DubdeskError("upload the approving document the rights holder signed")
        record = rights.clear_title(ctx, chosen_project(ctx, choice), holder, title, _items(languages),
                                    _items(territories), list(uses or ()), _day(start) or date.today(), _day(until),
                                    Path(document), reference, by=person(ctx, request).name)
        return f"Recorded title clearance {record.clearance_id}"

    @for_roles(ctx, *RIGHTS_MANAGER)
    def record_input(choice, name, owner, cleared, note, reference, request: gr.Request):
        status = rights.record_input(ctx, chosen_project(ctx, choice), name, owner, cleared == "cleared", note or "",
                                     None, reference or "", by=person(ctx, request).name)
        return f"Recorded: {status.describe()}"

    language = gr.Textbox(label="Language", value="es", elem_id="rights-language")
    show = gr.Button("Show rights", elem_id="rights-show")
    summary = gr.Markdown(elem_id="rights-summary")
    inputs = gr.Dataframe(headers=INPUT_COLUMNS, interactive=False, elem_id="rights-inputs")
    with gr.Accordion("Record a title clearance (rights manager)", open=False):
        with gr.Row():
            holder = gr.Textbox(label="Rights holder", elem_id="rights-holder")
            title = gr.Textbox(label="Title", elem_id="rights-title")
            languages = gr.Textbox(label="Languages (es,fr)", elem_id="rights-languages")
            territories = gr.Textbox(label="Territories (ES,MX or worldwide)", elem_id="rights-territories")
        with gr.Row():
            uses = gr.CheckboxGroup(list(USES), label="Uses", elem_id="rights-uses")
            start = gr.Textbox(label="From (YYYY-MM-DD)", elem_id="rights-from")
            until = gr.Textbox(label="Until (YYYY-MM-DD, empty: open)", elem_id="rights-until")
        with gr.Row():
            document = gr.File(label="Approving document", type="filepath", elem_id="rights-document")
            reference = gr.Textbox(label="Document reference", elem_id="rights-reference")
            clear_button = gr.Button("Record clearance", variant="primary", elem_id="rights-clear")
    with gr.Accordion("Record an input's rights (rights manager)", open=False):
        with gr.Row():
            input_name = gr.Textbox(label="Input (source, stem, glossary:TERM)", elem_id="rights-input")
            owner = gr.Textbox(label="Owner", elem_id="rights-owner")
            cleared = gr.Radio(["cleared", "not cleared"], value="cleared", label="Use here", elem_id="rights-cleared")
            note = gr.Textbox(label="Note", elem_id="rights-note")
            input_reference = gr.Textbox(label="Document reference", elem_id="rights-input-reference")
            input_button = gr.Button("Record input", elem_id="rights-record-input")
    message = gr.Markdown(elem_id="rights-message")
    show.click(status, [project_choice, language], [summary, inputs], api_name="rights_status")
    clear_button.click(record_clearance, [project_choice, holder, title, languages, territories, uses, start, until,
                                          document, reference], message, api_name="record_clearance")
    input_button.click(record_input, [project_choice, input_name, owner, cleared, note, input_reference], message,
                       api_name="record_input")
