"""People who sign in to the review workbench, and the workbench itself in the browser."""
from __future__ import annotations

import getpass
from typing import Annotated

import typer

from . import Home, app, load_settings, reported_errors

users_app = typer.Typer(help="People who sign in to the review workbench, each with one role.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(name: str, role: Annotated[str, typer.Option(help="localization | rights_manager | voice_actor | distributor | admin")],
              password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                                    envvar="DUBDESK_NEW_PASSWORD")],
              home: Home = None) -> None:
    """Add a user (the password is stored scrypt-hashed)."""
    from ..access import add_user
    from ..context import Context
    with reported_errors():
        add_user(Context(load_settings(home)).sessions, name, password, role, actor=f"{getpass.getuser()} (command line)")
    typer.echo(f"user {name} added ({role})")


@users_app.command("list")
def users_list(home: Home = None) -> None:
    from ..access import users
    from ..context import Context
    for person in users(Context(load_settings(home)).sessions):
        typer.echo(f"{person.name}\t{person.role}")


@app.command()
def ui(host: Annotated[str, typer.Option(help="address to serve on")] = "127.0.0.1",
       port: Annotated[int, typer.Option(help="port")] = 7860, home: Home = None) -> None:
    """Serve the review workbench in the browser, behind a login (add people with `dubdesk users add`)."""
    from ui.app import serve

    from ..context import Context

    serve(Context(load_settings(home)), host, port)
