"""Deliveries, their disclosure and verification (distributors), the audit log, and users (admins)."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from dubdesk.access import ROLES, add_user, users
from dubdesk.context import Context
from dubdesk.export.delivery import DISCLOSURE
from dubdesk.services import delivery
from dubdesk.shelf import package as shelf_package
from dubdesk.shelf import package_names
from dubdesk.store.audit import audit_events, audit_kinds

from .files import Handouts
from .guard import for_roles, person


def disclosure_of(package: Path) -> str:
    """What the package discloses to its distributor: who allowed it, why AI was used, whose voices, who approved."""
    text = package / DISCLOSURE
    return text.read_text("utf-8") if text.is_file() else "This package carries no disclosure: it was not cleared."


def build_deliveries(ctx: Context, handouts: Handouts) -> None:
    @for_roles(ctx, "distributor", "localization")
    def listing(request: gr.Request):
        names = package_names(ctx.settings)
        return gr.update(choices=names, value=names[0] if names else None)

    @for_roles(ctx, "distributor", "localization")
    def check(name, request: gr.Request):
        package = shelf_package(ctx.settings, name)
        findings = delivery.verify(ctx, package)
        problems = sum(f.ok is False for f in findings)
        rows = [[f.file, f.check, {True: "ok", False: "FAIL", None: "not checked"}[f.ok], f.message] for f in findings]
        files = [handouts.give(request, p) for p in sorted(package.rglob("*")) if p.is_file()]
        return rows, f"{problems} problem(s)" if problems else "Verified: no problems", files, disclosure_of(package)

    with gr.Row():
        chosen = gr.Dropdown([], label="Delivery", elem_id="deliveries-chosen")
        refresh = gr.Button("Refresh", elem_id="deliveries-refresh")
        verify = gr.Button("Verify", variant="primary", elem_id="deliveries-verify")
    status = gr.Markdown(elem_id="deliveries-status")
    findings = gr.Dataframe(headers=["file", "check", "", "finding"], interactive=False, elem_id="deliveries-findings")
    files = gr.File(label="Files", file_count="multiple", interactive=False, elem_id="deliveries-files")
    disclosure = gr.Textbox(label="Disclosure", lines=12, interactive=False, elem_id="deliveries-disclosure")
    refresh.click(listing, None, chosen)
    verify.click(check, chosen, [findings, status, files, disclosure], api_name="verify_delivery")


def build_audit(ctx: Context) -> None:
    """Every state change with the person and the time, narrowed to one line, person or kind of event."""
    @for_roles(ctx, "localization", "admin")
    def events(line_id, actor, kind, request: gr.Request):
        rows = [[e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action, e.project_id, e.line_id or "",
                 ", ".join(f"{k}: {v}" for k, v in (e.detail or {}).items() if v)]
                for e in audit_events(ctx.sessions, line_id=line_id, actor=actor, action=None if kind == "all" else kind)]
        return rows, gr.update(choices=["all", *audit_kinds(ctx.sessions)])

    with gr.Row():
        line_id = gr.Textbox(label="Line", elem_id="audit-line")
        actor = gr.Textbox(label="Person", elem_id="audit-person")
        kind = gr.Dropdown(["all"], value="all", label="Kind", allow_custom_value=True, elem_id="audit-kind")
        refresh = gr.Button("Refresh", elem_id="audit-refresh")
    table = gr.Dataframe(headers=["when", "who", "did", "project", "line", "detail"], interactive=False,
                         wrap=True, elem_id="audit-table")
    refresh.click(events, [line_id, actor, kind], [table, kind], api_name="audit")


def build_users(ctx: Context) -> None:
    def rows():
        return [[u.name, u.role, u.created_at.strftime("%Y-%m-%d")] for u in users(ctx.sessions)]

    @for_roles(ctx, "admin")
    def listing(request: gr.Request):
        return rows()

    @for_roles(ctx, "admin")
    def create(name, password, role, request: gr.Request):
        add_user(ctx.sessions, name, password, role, actor=person(ctx, request).name)
        return rows(), f"User {name} added"

    with gr.Row():
        name = gr.Textbox(label="Name", elem_id="users-name")
        password = gr.Textbox(label="Password (8+ characters)", type="password", elem_id="users-password")
        role = gr.Dropdown(list(ROLES), value="localization", label="Role", elem_id="users-role")
        add = gr.Button("Add user", elem_id="users-add")
    status = gr.Markdown(elem_id="users-status")
    table = gr.Dataframe(headers=["name", "role", "since"], interactive=False, elem_id="users-table")
    refresh = gr.Button("Refresh", elem_id="users-refresh")
    add.click(create, [name, password, role], [table, status], api_name="add_user")
    refresh.click(listing, None, table)
