"""The voice actor's portal: their own profiles, consent terms, revocation and the usage log."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import gradio as gr

from dubdesk.context import Context
from dubdesk.errors import DubdeskError
from dubdesk.services import portal
from dubdesk.services.desk import usage_log

from .files import Handouts
from .guard import for_roles, person

CONFIRM_REVOKE = "(profile, reason, confirmed) => [profile, reason, confirm(`Revoke consent for ${profile}? This is final.`)]"
USAGE_COLUMNS = ["when", "project", "line", "language", "text", "status"]


def _terms(languages: str, uses: str, until: str) -> tuple[list[str], list[str], date | None]:
    split = [part.strip() for part in languages.split(",") if part.strip()]
    return split, [u.strip() for u in uses.split(",") if u.strip()], _date(until)


def _date(text: str) -> date | None:
    """A 'valid until' date as a person types it; empty means open-ended."""
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise DubdeskError(f"'{text.strip()}' is not a date: write it as year-month-day, e.g. 2027-06-30, "
                           f"or leave it empty for no end date") from None


def build(ctx: Context, handouts: Handouts) -> None:
    def listing(request):
        records = portal.own_profiles(ctx, person(ctx, request))
        rows = [[r.profile_id, r.actor, ", ".join(r.terms.languages), ", ".join(r.terms.uses),
                 r.terms.valid_until.isoformat() if r.terms.valid_until else "open",
                 "revoked" if r.revoked else "active"] for r in records]
        return rows, gr.update(choices=[r.profile_id for r in records])

    @for_roles(ctx, "voice_actor")
    def refresh(request: gr.Request):
        return listing(request)

    @for_roles(ctx, "voice_actor")
    def create(actor, languages, uses, until, terms_ref, files, request: gr.Request):
        langs, use_list, valid_until = _terms(languages, uses, until)
        record = portal.create_profile(ctx, person(ctx, request), actor, langs, use_list, valid_until,
                                       terms_ref, [Path(f) for f in files or []])
        return (*listing(request), f"Created {record.profile_id}")

    @for_roles(ctx, "voice_actor")
    def change(profile_id, languages, uses, until, terms_ref, request: gr.Request):
        langs, use_list, valid_until = _terms(languages, uses, until)
        portal.change_terms(ctx, person(ctx, request), profile_id, langs, use_list, valid_until, terms_ref)
        return (*listing(request), f"Terms of {profile_id} updated")

    @for_roles(ctx, "voice_actor")
    def revoke(profile_id, reason, confirmed, request: gr.Request):
        if not confirmed:
            return gr.skip(), gr.skip(), "Nothing revoked"
        blocked = portal.revoke(ctx, person(ctx, request), profile_id, reason)
        return (*listing(request), f"Consent for {profile_id} revoked; {blocked} unmixed line(s) blocked")

    @for_roles(ctx, "voice_actor")
    def usage(profile_id, request: gr.Request):
        portal.own_profile(ctx, person(ctx, request), profile_id)
        used = usage_log(ctx, profile_id)
        return [[u.when, u.project, u.line_id, u.language, u.text, u.status] for u in used], [str(u.path) for u in used]

    @for_roles(ctx, "voice_actor")
    def play(paths, event: gr.SelectData, request: gr.Request):
        return handouts.give(request, paths[event.index[0]])

    profiles = gr.Dataframe(headers=["profile", "actor", "languages", "uses", "until", "state"], interactive=False,
                            elem_id="voices-table")
    refresh_button = gr.Button("Refresh", elem_id="voices-refresh")
    with gr.Accordion("New profile / change terms", open=True):
        with gr.Row():
            actor = gr.Textbox(label="Name as credited", elem_id="voices-actor")
            languages = gr.Textbox(label="Languages (comma separated)", value="es", elem_id="voices-languages")
            uses = gr.Textbox(label="Uses", value="dubbing", elem_id="voices-uses")
            until = gr.Textbox(label="Valid until (YYYY-MM-DD, empty: open)", elem_id="voices-until")
            terms_ref = gr.Textbox(label="Contract reference", elem_id="voices-terms")
        references = gr.File(label="Reference recordings (3 s - 2 min of clean speech)", file_count="multiple",
                             type="filepath", elem_id="voices-references")
        create_button = gr.Button("Create profile", variant="primary", elem_id="voices-create")
    chosen = gr.Dropdown([], label="Profile", elem_id="voices-chosen")
    with gr.Row():
        change_button = gr.Button("Change its terms (above)", elem_id="voices-change")
        reason = gr.Textbox(label="Reason for revoking", elem_id="voices-reason")
        revoke_button = gr.Button("Revoke consent", variant="stop", elem_id="voices-revoke")
        usage_button = gr.Button("Usage log", elem_id="voices-usage")
    status = gr.Markdown(elem_id="voices-status")
    used = gr.Dataframe(headers=USAGE_COLUMNS, interactive=False, elem_id="voices-usage-table")
    paths = gr.State([])
    player = gr.Audio(label="Line", type="filepath", interactive=False, elem_id="voices-player")

    refresh_button.click(refresh, None, [profiles, chosen])
    create_button.click(create, [actor, languages, uses, until, terms_ref, references], [profiles, chosen, status])
    change_button.click(change, [chosen, languages, uses, until, terms_ref], [profiles, chosen, status])
    confirmed = gr.Checkbox(visible=False)
    revoke_button.click(revoke, [chosen, reason, confirmed], [profiles, chosen, status], js=CONFIRM_REVOKE)
    usage_button.click(usage, chosen, [used, paths])
    used.select(play, paths, player)
