"""Every handler runs for a signed-in person whose role allows it; a refusal becomes one plain message."""
from __future__ import annotations

import functools
import html
from pathlib import Path

import gradio as gr

from dubdesk.access import AccessDenied, require, user
from dubdesk.context import Context
from dubdesk.errors import BadInputError, DubdeskError


def person(ctx: Context, request: gr.Request):
    return user(ctx.sessions, request.username if request else None)


def refusal(error: Exception) -> str:
    """What the person reads (escaped: Gradio renders messages as HTML); an upload is named as they
    named it, never by its path on the server."""
    if isinstance(error, BadInputError):
        return html.escape(f"{Path(error.path).name}: {error.reason}")
    return html.escape(str(error))


def for_roles(ctx: Context, *roles: str):
    """Check the role on the server before the handler runs, whatever the page shows.

    A refusal (a dubdesk error, or no such line) is shown as one warning and changes no output: no
    error badges, no traceback in the server log. A call the person's role may not make (only
    possible past the page, through the API) fails as an error the caller sees. Anything else is a
    fault, raised as usual."""
    def wrap(handler):
        @functools.wraps(handler)
        def guarded(*args, **kwargs):
            request = next((a for a in [*args, *kwargs.values()] if isinstance(a, gr.Request)), None)
            try:
                require(person(ctx, request), *roles)
                return handler(*args, **kwargs)
            except AccessDenied as error:
                raise gr.Error(refusal(error), title="Not allowed", print_exception=False) from error
            except KeyError:
                raise
            except (DubdeskError, LookupError) as error:
                gr.Warning(refusal(error), duration=None, title="Not done")
                return gr.skip()
        return guarded
    return wrap
