"""Deliveries and verification (distributors), the audit log, and users (admins)."""
from __future__ import annotations

from pathlib import Path

import gradio as gr
from sqlalchemy import select

from dubdesk.access import ROLES, add_user, users
from dubdesk.store.models import AuditEvent
from dubdesk.workbench import Workbench

from .guard import for_roles


def deliveries_folder(workbench: Workbench) -> Path:
    return workbench.settings.home / "deliveries"


def build_deliveries(workbench: Workbench) -> None:
    @for_roles(workbench, "distributor", "localization")
    def listing(request: gr.Request):
        folder = deliveries_folder(workbench)
        names = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")) if folder.exists() else []
        return gr.update(choices=names, value=names[0] if names else None)

    @for_roles(workbench, "distributor", "localization")
    def check(name, request: gr.Request):
        if not name:
            raise ValueError("choose a delivery")
        package = deliveries_folder(workbench) / name
        findings = workbench.verify(package)
        problems = sum(f.ok is False for f in findings)
        rows = [[f.file, f.check, {True: "ok", False: "FAIL", None: "not checked"}[f.ok], f.message] for f in findings]
        files = sorted(str(p) for p in package.rglob("*") if p.is_file())
        return rows, f"{problems} problem(s)" if problems else "Verified: no problems", files

    with gr.Row():
        chosen = gr.Dropdown([], label="Delivery", elem_id="deliveries-chosen")
        refresh = gr.Button("Refresh", elem_id="deliveries-refresh")
        verify = gr.Button("Verify", variant="primary", elem_id="deliveries-verify")
    status = gr.Markdown(elem_id="deliveries-status")
    findings = gr.Dataframe(headers=["file", "check", "", "finding"], interactive=False, elem_id="deliveries-findings")
    files = gr.File(label="Files", file_count="multiple", interactive=False, elem_id="deliveries-files")
    refresh.click(listing, None, chosen)
    verify.click(check, chosen, [findings, status, files])


def build_audit(workbench: Workbench) -> None:
    @for_roles(workbench, "localization", "admin")
    def events(request: gr.Request):
        with workbench.sessions() as session:
            rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1000))
            return [[e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action, e.project_id, e.line_id or "",
                     ", ".join(f"{k}: {v}" for k, v in (e.detail or {}).items() if v)] for e in rows]

    refresh = gr.Button("Refresh", elem_id="audit-refresh")
    table = gr.Dataframe(headers=["when", "who", "did", "project", "line", "detail"], interactive=False,
                         wrap=True, elem_id="audit-table")
    refresh.click(events, None, table)


def build_users(workbench: Workbench) -> None:
    def rows():
        return [[u.name, u.role, u.created_at.strftime("%Y-%m-%d")] for u in users(workbench.sessions)]

    @for_roles(workbench, "admin")
    def listing(request: gr.Request):
        return rows()

    @for_roles(workbench, "admin")
    def create(name, password, role, request: gr.Request):
        add_user(workbench.sessions, name, password, role)
        return rows(), f"User {name} added"

    with gr.Row():
        name = gr.Textbox(label="Name", elem_id="users-name")
        password = gr.Textbox(label="Password (8+ characters)", type="password", elem_id="users-password")
        role = gr.Dropdown(list(ROLES), value="localization", label="Role", elem_id="users-role")
        add = gr.Button("Add user", elem_id="users-add")
    status = gr.Markdown(elem_id="users-status")
    table = gr.Dataframe(headers=["name", "role", "since"], interactive=False, elem_id="users-table")
    refresh = gr.Button("Refresh", elem_id="users-refresh")
    add.click(create, [name, password, role], [table, status])
    refresh.click(listing, None, table)
