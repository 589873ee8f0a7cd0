"""Every handler runs for a signed-in person whose role allows it; errors become one plain message."""
from __future__ import annotations

import functools

import gradio as gr

from dubdesk.access import require, user
from dubdesk.errors import DubdeskError
from dubdesk.workbench import Workbench


def person(workbench: Workbench, request: gr.Request):
    return user(workbench.sessions, request.username if request else None)


def for_roles(workbench: Workbench, *roles: str):
    """Check the role on the server before the handler runs, whatever the page shows."""
    def wrap(handler):
        @functools.wraps(handler)
        def guarded(*args, **kwargs):
            request = next((a for a in [*args, *kwargs.values()] if isinstance(a, gr.Request)), None)
            try:
                require(person(workbench, request), *roles)
                return handler(*args, **kwargs)
            except (DubdeskError, LookupError, ValueError) as error:
                raise gr.Error(str(error), duration=None) from error
        return guarded
    return wrap
