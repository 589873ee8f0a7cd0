"""The Rights page's role checks on the server: only a rights manager records a clearance or an input's
rights; the localization team sees them; a distributor reaches neither, whatever the page shows."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dubdesk.access import add_user
from dubdesk.bench.security.web import free_port
from dubdesk.services import projects, rights
from dubdesk.store.models import AuditEvent

from .conftest import ROOT
from .test_ui import PASSWORD

pytestmark = pytest.mark.browser

PEOPLE = {"rosa": "rights_manager", "luis": "localization", "dana": "distributor"}
LICENCE = ROOT / "samples" / "ATTRIBUTION.md"


@pytest.fixture(scope="module")
def served(ctx, make_media):
    """Three people, one uncleared project, the app served on 127.0.0.1."""
    from ui.app import serve

    for name, role in PEOPLE.items():
        add_user(ctx.sessions, name, PASSWORD, role)
    project = projects.create_project(ctx, make_media("rights-web.wav", seconds=3.0), name="Rights on the web")
    app, url = serve(ctx, port=free_port(), block=False)
    yield ctx, project, url.rstrip("/")
    app.close()


def _client(url: str, name: str):
    from gradio_client import Client

    return Client(url, auth=(name, PASSWORD), verbose=False, download_files=False)


def _clearance_call(client, project):
    from gradio_client import handle_file

    return client.predict(f"{project.id} {project.name}", "Estudio Norte", "Rights on the web", "es", "ES,MX",
                          ["ai-voice", "ai-translation"], "", "", handle_file(str(LICENCE)), "letter 12",
                          api_name="/record_clearance")


def test_only_a_rights_manager_records_a_clearance_or_an_inputs_rights(served):
    from gradio_client.exceptions import AppError

    ctx, project, url = served
    for name in ("luis", "dana"):
        with pytest.raises(AppError, match="needs the role rights_manager"):
            _clearance_call(_client(url, name), project)
        with pytest.raises(AppError, match="needs the role rights_manager"):
            _client(url, name).predict(f"{project.id} {project.name}", "source", name, "cleared", "", "",
                                       api_name="/record_input")
    assert ctx.clearances.clearance_ids(project.id) == [], "no refused call left a clearance"
    assert "Recorded title clearance clearance-" in _clearance_call(_client(url, "rosa"), project)
    [clearance_id] = ctx.clearances.clearance_ids(project.id)
    assert ctx.clearances.current(clearance_id).terms.territories == ("ES", "MX")
    with ctx.sessions() as session:
        actors = session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "title cleared",
                                                                AuditEvent.project_id == project.id)).all()
    assert actors == ["rosa"]
    assert rights.inputs(ctx, project, "es")[0].owner == "Estudio Norte"


def test_the_localization_team_sees_the_rights_and_a_distributor_does_not(served):
    from gradio_client.exceptions import AppError

    ctx, project, url = served
    summary, _ = _client(url, "luis").predict(f"{project.id} {project.name}", "es", api_name="/rights_status")
    assert "**Purpose:** (not stated)" in summary
    with pytest.raises(AppError, match="needs the role rights_manager or localization"):
        _client(url, "dana").predict(f"{project.id} {project.name}", "es", api_name="/rights_status")
