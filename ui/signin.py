"""The login form's password check: throttled per name and per client (access.LoginThrottle), and run
in a worker thread so scrypt never holds up the event loop that serves everyone else."""
from __future__ import annotations

from contextvars import ContextVar

import anyio

from dubdesk.access import LoginThrottle, sign_in
from dubdesk.context import Context

# Gradio calls the check with the name and password only; the client's address comes from here.
CLIENT: ContextVar[str] = ContextVar("client", default="unknown")


class ClientAddress:
    """ASGI middleware: note the connecting address for the login route handled in this same task."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("client"):
            CLIENT.set(scope["client"][0])
        await self.app(scope, receive, send)


def password_check(ctx: Context, throttle: LoginThrottle):
    """The `auth` callable for Gradio's login route (a coroutine, so Gradio awaits it)."""
    async def check(name: str, password: str) -> bool:
        return await anyio.to_thread.run_sync(sign_in, ctx.sessions, throttle, name, password, CLIENT.get())
    return check
