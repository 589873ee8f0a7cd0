"""The app: a login, then the pages the person's role uses (every handler checks the role again)."""
from __future__ import annotations

import threading

import gradio as gr
from starlette.middleware import Middleware

from dubdesk.access import LoginThrottle
from dubdesk.context import Context

from . import admin, casting, programme, projects, review, rights, voices
from .files import FileGate, Handouts, cache_folder
from .guard import person
from .keys import CSS, HEAD
from .signin import ClientAddress, password_check

PAGES = {  # tab id -> roles that see it
    "projects": ("localization",), "casting": ("localization",), "review": ("localization",),
    "rights": ("rights_manager", "localization"), "voices": ("voice_actor",),
    "deliveries": ("distributor", "localization"), "audit": ("localization", "admin"), "users": ("admin",),
}


def build_app(ctx: Context, handouts: Handouts) -> gr.Blocks:
    with gr.Blocks(title="dubdesk") as app:
        with gr.Row():
            whoami = gr.Markdown(elem_id="whoami")
            gr.Button("Log out", link="/logout", size="sm", scale=0, elem_id="logout")
        project_choice = gr.Dropdown([], label="Project", elem_id="project-choice", visible=False, allow_custom_value=True)
        with gr.Tabs() as pages:
            tabs = {}
            with gr.Tab("Projects", id="projects", visible=False) as tabs["projects"]:
                projects.build(ctx, project_choice)
            with gr.Tab("Casting", id="casting", visible=False) as tabs["casting"]:
                casting.build(ctx, project_choice)
            with gr.Tab("Review", id="review", visible=False) as tabs["review"]:
                review.build(ctx, project_choice, handouts)
            with gr.Tab("Rights", id="rights", visible=False) as tabs["rights"]:
                rights.build(ctx, project_choice)
            with gr.Tab("My voices", id="voices", visible=False) as tabs["voices"]:
                voices.build(ctx, handouts)
            with gr.Tab("Deliveries", id="deliveries", visible=False) as tabs["deliveries"]:
                admin.build_deliveries(ctx, handouts)
            with gr.Tab("Audit log", id="audit", visible=False) as tabs["audit"]:
                admin.build_audit(ctx)
            with gr.Tab("Users", id="users", visible=False) as tabs["users"]:
                admin.build_users(ctx)

        def start(request: gr.Request):
            who = person(ctx, request)
            shown = [gr.update(visible=who.role in roles) for roles in PAGES.values()]
            first = next(page for page, roles in PAGES.items() if who.role in roles)
            chooses = who.role in ("localization", "rights_manager")
            choice = gr.update(visible=chooses, choices=projects.project_choices(ctx) if chooses else [])
            return (f"Signed in as **{who.name}** ({who.role.replace('_', ' ')})", choice, gr.Tabs(selected=first), *shown)

        app.load(start, None, [whoami, project_choice, pages, *tabs.values()])
    return app


def _warm_up(ctx: Context) -> None:
    """Load the QC models while people sign in, so the first regenerated line does not wait for them."""
    from dubdesk.transcribe import get_transcriber
    from dubdesk.voices.embedding import voice_encoder

    get_transcriber(ctx.settings)
    voice_encoder()


def serve(ctx: Context, host: str = "127.0.0.1", port: int = 7860, block: bool = True,
          throttle: LoginThrottle | None = None) -> tuple[gr.Blocks, str]:
    """Serve the app behind a throttled login; the app and its address.

    No folder is an allowed path: the browser fetches only copies handed to the person asking (see
    ui.files), from a private cache folder outside the data folder, so keys, the database and other
    people's recordings are never served."""
    handouts = Handouts(cache_folder(ctx.settings.home))
    app = build_app(ctx, handouts)
    app.queue(default_concurrency_limit=4)
    threading.Thread(target=_warm_up, args=(ctx,), daemon=True).start()
    middleware = [Middleware(ClientAddress), Middleware(FileGate, handouts=handouts)]
    _, url, _ = app.launch(server_name=host, server_port=port, auth=password_check(ctx, throttle or LoginThrottle()),
                           prevent_thread_lock=not block, quiet=True, footer_links=[], run_history=False,
                           head=HEAD + programme.HEAD, css=CSS + programme.CSS, app_kwargs={"middleware": middleware})
    return app, url
