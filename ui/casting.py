"""Casting: speakers named as characters, each cast to a voice whose consent covers the title, the
language and the use today (only those are offered), and recast when a voice's consent ends."""
from __future__ import annotations

import gradio as gr

from dubdesk.context import Context
from dubdesk.errors import DubdeskError
from dubdesk.services import casting, projects

from .guard import for_roles, person
from .projects import LANGUAGES, chosen_project

SHEET = ["speaker", "character", "voice", "state"]


def _state(row: casting.CastRow) -> str:
    if row.voice is None:
        return "not cast"
    return f"recast: {row.refused}" if row.refused else "cast"


def build(ctx: Context, project_choice: gr.Dropdown) -> None:
    def sheet(project, language):
        rows = casting.cast_sheet(ctx, project, language)
        offered = [record.profile_id for record in casting.eligible_voices(ctx, project, language)]
        return ([[r.speaker, r.character or "", r.voice or "", _state(r)] for r in rows],
                gr.update(choices=[r.speaker for r in rows]), gr.update(choices=offered))

    @for_roles(ctx, "localization")
    def load(project_id, language, request: gr.Request):
        return sheet(chosen_project(ctx, project_id), language)

    @for_roles(ctx, "localization")
    def name(project_id, language, speaker, character, request: gr.Request):
        if not speaker or not (character or "").strip():
            raise DubdeskError("choose a speaker and write the character's name")
        project = projects.describe_project(ctx, chosen_project(ctx, project_id), characters={speaker: character.strip()},
                                            by=person(ctx, request).name)
        return (*sheet(project, language), f"{speaker} is {character.strip()}")

    @for_roles(ctx, "localization")
    def cast(project_id, language, speaker, voice, request: gr.Request):
        if not speaker or not voice:
            raise DubdeskError("choose a speaker and a voice")
        project = chosen_project(ctx, project_id)
        casting.cast(ctx, project, speaker, language, voice, by=person(ctx, request).name)
        return (*sheet(project, language), f"{speaker} cast to {voice} in {language}; run the stages again (Review: "
                                           f"“Bring the changed lines up to date”) to speak their lines in it")

    with gr.Row():
        language = gr.Dropdown(LANGUAGES, value="es", label="Language", elem_id="casting-language")
        load_button = gr.Button("Load the cast", elem_id="casting-load")
    table = gr.Dataframe(headers=SHEET, interactive=False, wrap=True, elem_id="casting-table")
    with gr.Row():
        speaker = gr.Dropdown([], label="Speaker", elem_id="casting-speaker")
        character = gr.Textbox(label="Character name", elem_id="casting-character")
        name_button = gr.Button("Name the character", elem_id="casting-name")
    with gr.Row():
        voice = gr.Dropdown([], label="Voice (only those whose consent covers this title, language and use)",
                            elem_id="casting-voice")
        cast_button = gr.Button("Cast", variant="primary", elem_id="casting-cast")
    status = gr.Markdown(elem_id="casting-status")
    outputs = [table, speaker, voice]
    load_button.click(load, [project_choice, language], outputs, api_name="load_cast")
    name_button.click(name, [project_choice, language, speaker, character], [*outputs, status], api_name="name_character")
    cast_button.click(cast, [project_choice, language, speaker, voice], [*outputs, status], api_name="cast_voice")
