"""Projects: create one from an upload, choose its target languages, run every stage up to review."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from dubdesk.context import Context
from dubdesk.errors import DubdeskError
from dubdesk.services import casting, pipeline, projects
from dubdesk.store import Project

from .guard import for_roles, person

LANGUAGES = ["es", "fr", "de", "it", "pt", "ja", "en"]


def project_choices(ctx: Context) -> list[str]:
    return [f"{p.id} {p.name}" for p in projects.projects(ctx)]


def chosen_project(ctx: Context, choice: str | None) -> Project:
    """The project a choice ("12 Episode 3") names; the choice comes from the browser, so it is checked."""
    number = str(choice or "").split(" ")[0]
    if not number.isdigit():
        raise DubdeskError("choose a project first")
    return projects.project(ctx, int(number))


def build(ctx: Context, project_choice: gr.Dropdown) -> None:
    @for_roles(ctx, "localization")
    def create(upload, name, targets, request: gr.Request):
        if not upload:
            raise DubdeskError("choose a source file to upload")
        project = projects.create_project(ctx, Path(upload), name or None, tuple(targets or ()),
                                           by=person(ctx, request).name)
        label = f"{project.id} {project.name}"
        return gr.update(choices=project_choices(ctx), value=label), f"Created project {label}"

    @for_roles(ctx, "localization")
    def voices(project_id, language, request: gr.Request):
        project = chosen_project(ctx, project_id)
        offered = [record.profile_id for record in casting.eligible_voices(ctx, project, language)]
        return gr.update(choices=offered, value=offered[0] if offered else None)

    @for_roles(ctx, "localization")
    def run(project_id, language, voice, request: gr.Request, progress=gr.Progress()):
        project = chosen_project(ctx, project_id)
        if not voice:
            raise DubdeskError("choose a voice for the uncast speakers")

        def report(stage, done=None, total=None):
            progress((done or 0, total) if total else 0, desc=stage)

        dub = pipeline.prepare_dub(ctx, project, language, voice, report, by=person(ctx, request).name)
        failed = sum(any(c.verdict == "fail" for c in checks) for checks in dub.results.values())
        refused = f"; {len(dub.refused)} line(s) not spoken: {next(iter(dub.refused.values()))}" if dub.refused else ""
        return f"Ready for review: {len(dub.results)} line(s), {failed} with a QC fail{refused}"

    with gr.Row():
        upload = gr.File(label="Source (audio or video)", type="filepath", elem_id="project-upload")
        with gr.Column():
            name = gr.Textbox(label="Project name", elem_id="project-name")
            targets = gr.CheckboxGroup(LANGUAGES, label="Target languages", elem_id="project-targets")
            create_button = gr.Button("Create project", elem_id="project-create")
    with gr.Row():
        language = gr.Dropdown(LANGUAGES, value="es", label="Language", elem_id="project-language")
        voice = gr.Dropdown([], label="Voice for uncast speakers", elem_id="project-voice", allow_custom_value=True)
        run_button = gr.Button("Run every stage up to review", variant="primary", elem_id="project-run")
    status = gr.Markdown(elem_id="project-status")
    create_button.click(create, [upload, name, targets], [project_choice, status])
    project_choice.change(voices, [project_choice, language], voice)
    language.change(voices, [project_choice, language], voice)
    run_button.click(run, [project_choice, language, voice], status)
