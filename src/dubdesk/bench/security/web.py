"""The web attacks: the UI served on 127.0.0.1, and each role (and nobody signed in) asking Gradio's
file routes for the secrets of the data folder, plain, walking out of the cache and percent-encoded;
the client helpers (`free_port`, `login`, `signed_in`, `secrets_of`, `attempts`, `fetched`) are the
ones tests/test_web_security.py reuses.
"""
from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from ...config import Settings
from ...context import Context
from ...errors import DubdeskError
from ...seal import KEY_FILE
from ...services import delivery
from .common import LANGUAGE, Attempt, clip_of

FILE_ROUTES = ("/gradio_api/file=", "/gradio_api/file/", "/file=", "/file/")
PASSWORD = "correct horse"
PEOPLE = {"lucia": "localization", "vera": "voice_actor", "olive": "voice_actor", "dino": "distributor", "adam": "admin"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def login(client: httpx.Client, name: str, password: str) -> httpx.Response:
    return client.post("/login", data={"username": name, "password": password})


def signed_in(url: str, name: str, password: str, address: str = "127.0.0.1") -> httpx.Client:
    """A client of its own (from `address`) signed in as `name`."""
    client = httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=address), timeout=30)
    if login(client, name, password).status_code != 200:
        raise DubdeskError(f"{name} could not sign in to {url}: the attack needs a signed-in {name}")
    return client


def secrets_of(ctx: Context, profiles: dict[str, str]) -> dict[str, Path]:
    """The files no role may be served: both keys, the database and its log, a consent history, and the
    recording of the actor `profiles['olive']`."""
    home = ctx.settings.home
    database, voices = home / "dubdesk.db", home / "voices"
    found = {"signing key": delivery.signing_identity(ctx).key, "registry key": home / "keys" / KEY_FILE,
             "database": database, "database -wal": database.with_name("dubdesk.db-wal"),
             "consent history": next(voices.rglob("history.jsonl")),
             "olive's reference": next((voices / profiles["olive"]).rglob("*.wav"))}
    missing = [name for name, path in found.items() if not path.is_file()]
    if missing:
        raise DubdeskError(f"the file-route attack needs these files in {home}: {', '.join(missing)}")
    return found


def attempts(path: Path, cache: Path) -> list[str]:
    """Ways to name `path` on Gradio's file routes: plain, walking out of the cache folder, percent-encoded."""
    walk = f"{cache}/x/../../..{path}"
    encoded = walk.replace("..", "%2e%2e")
    return [f"{route}{variant}" for route in FILE_ROUTES for variant in (str(path), walk, encoded)]


def fetched(client: httpx.Client, url_path: str) -> bytes | None:
    response = client.get(url_path)
    return response.content if response.status_code == 200 else None


@contextmanager
def private_cache(folder: Path) -> Iterator[None]:
    """Gradio's cache in `folder` while the UI is served, unless one is already chosen (GRADIO_TEMP_DIR)."""
    if os.environ.get("GRADIO_TEMP_DIR"):
        yield
        return
    folder.mkdir(mode=0o700)
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    try:
        yield
    finally:
        os.environ.pop("GRADIO_TEMP_DIR", None)


def web_attacks(settings: Settings, sample: Path, scratch: Path) -> list[Attempt]:
    """Each role (and nobody signed in) asks the four file routes for each secret, twelve ways each."""
    from ...access import add_user, user
    from ...services import portal

    ctx = Context(settings)
    for name, role in PEOPLE.items():
        add_user(ctx.sessions, name, PASSWORD, role)
    profiles = {name: portal.create_profile(ctx, user(ctx.sessions, name), name.title(), [LANGUAGE], ["dubbing"], None,
                                            "contract", [clip_of(sample, scratch / f"{name}.wav", start, 10.0, name)]).profile_id
                for name, start in (("vera", 2), ("olive", 14))}
    secrets = secrets_of(ctx, profiles)
    with private_cache(scratch / "ui-cache"), _served(ctx) as url:
        from ui.files import cache_folder

        cache = cache_folder(settings.home)
        clients = {name: signed_in(url, name, PASSWORD) for name in ("lucia", "vera", "dino", "adam")}
        clients["nobody signed in"] = httpx.Client(base_url=url, timeout=30)
        return [_asked(who, client, what, path, cache) for who, client in clients.items() for what, path in secrets.items()]


@contextmanager
def _served(ctx: Context) -> Iterator[str]:
    from ui.app import serve

    app, url = serve(ctx, port=free_port(), block=False)
    try:
        yield url.rstrip("/")
    finally:
        app.close()


def _asked(who: str, client: httpx.Client, what: str, path: Path, cache: Path) -> Attempt:
    secret = path.read_bytes()[:64]
    ways = attempts(path, cache)
    served = [way for way in ways if (body := fetched(client, way)) is not None and secret in body]
    if served:
        return Attempt("web", f"{who} asks for: {what}", "served", f"served at {served[0]} ({len(served)} of {len(ways)} ways)")
    return Attempt("web", f"{who} asks for: {what}", "refused",
                   f"{len(ways)} requests on {len(FILE_ROUTES)} routes (plain, walking out of the cache, percent-encoded)")
