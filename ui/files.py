"""Which files the browser may fetch: only those handed to the signed-in person, checked per request.

Gradio serves any file under `allowed_paths` and anything in its cache to every signed-in user, and
names cached copies by a content hash anyone who once saw the URL can reuse. So the data folder is
never an allowed path: a handler hands a file out with `Handouts.give`, which copies it into a
private cache folder (outside the data folder) and records it for that user, and `FileGate` answers
every file request with 403 unless the requested path is one handed to the person asking. Files a
person uploads are handed back to them alone.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from collections import defaultdict
from pathlib import Path

import gradio as gr
from gradio.processing_utils import save_file_to_cache
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse

from dubdesk.errors import DubdeskError

# Gradio's file routes (`/gradio_api/file=`, `/gradio_api/file/`, and the same without the prefix in
# older versions) and its proxy, which this app never needs.
FILE_ROUTE = re.compile(r"^(?:/gradio_api)?/(?:file[=/]|proxy=)(?P<path>.*)$", re.DOTALL)
UPLOAD_ROUTE = re.compile(r"^(?:/gradio_api)?/upload/?$")


def cache_folder(home: Path) -> Path:
    """Gradio's cache and upload folder for this process: private (0700), outside the data folder.
    Gradio reads GRADIO_TEMP_DIR when components are made and on every upload, so it is set once."""
    folder = Path(os.environ.get("GRADIO_TEMP_DIR") or tempfile.mkdtemp(prefix="dubdesk-ui-")).resolve()
    home = Path(home).resolve()
    if folder.is_relative_to(home) or home.is_relative_to(folder):
        raise DubdeskError(f"Gradio's cache folder {folder} overlaps the data folder {home}; "
                           f"set GRADIO_TEMP_DIR to a folder outside it")
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    return folder


class Handouts:
    """The files each signed-in person has been handed (copies in the cache folder)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._given: dict[str, set[Path]] = defaultdict(set)
        self._lock = threading.Lock()

    def give(self, request: gr.Request, path: Path | str | None, digest: str | None = None) -> str | None:
        """A copy of `path` the person behind `request` (and nobody else) may fetch. Given its content
        hash (`digest`: a project's source, a preview), the file is not read again to hash it, and the
        copy is made once: a programme's source can be GBs."""
        if path is None:
            return None
        copy = save_file_to_cache(path, str(self.folder)) if digest is None else self._kept(Path(path), digest)
        self.grant(request.username, copy)
        return copy

    def _kept(self, path: Path, digest: str) -> str:
        """The cached copy of a file known by `digest`: a hard link where the cache shares its file system, else a copy."""
        copy = self.folder / digest / path.name
        if not copy.exists():
            copy.parent.mkdir(exist_ok=True)
            partial = copy.with_name(f".{copy.name}.{threading.get_ident()}")
            try:
                os.link(path, partial)
            except OSError:
                shutil.copyfile(path, partial)
            os.replace(partial, copy)
        return str(copy)

    def grant(self, user: str, path: Path | str) -> None:
        with self._lock:
            self._given[user].add(Path(os.path.abspath(path)).resolve())

    def may_fetch(self, user: str | None, requested: str) -> bool:
        """Gradio resolves the requested path with os.path.abspath (`..` collapsed); so is it here."""
        wanted = Path(os.path.abspath(requested)).resolve()
        with self._lock:
            return user is not None and wanted in self._given.get(user, ())


class FileGate:
    """ASGI middleware inside Gradio's app: every file request is checked against the handouts."""

    def __init__(self, app, handouts: Handouts) -> None:
        self.app = app
        self.handouts = handouts

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        route = FILE_ROUTE.match(scope["path"])
        if route is not None:
            if not self.handouts.may_fetch(_user(scope), route["path"]):
                return await PlainTextResponse("Not yours to fetch.", status_code=403)(scope, receive, send)
            return await self.app(scope, receive, send)
        if scope["method"] == "POST" and UPLOAD_ROUTE.match(scope["path"]):
            return await self.app(scope, receive, self._granting_uploads(scope, send))
        return await self.app(scope, receive, send)

    def _granting_uploads(self, scope, send):
        """Gradio answers an upload with the list of stored paths; hand them to the uploader."""
        user, status, body = _user(scope), [0], bytearray()

        async def watched(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if not message.get("more_body") and status[0] == 200 and user is not None:
                    for path in json.loads(body):
                        self.handouts.grant(user, path)
            await send(message)
        return watched


def _user(scope) -> str | None:
    """The signed-in user, from Gradio's login cookie (the app maps each token to a name)."""
    app = scope["app"]
    cookies = HTTPConnection(scope).cookies
    token = cookies.get(f"access-token-{app.cookie_id}") or cookies.get(f"access-token-unsecure-{app.cookie_id}")
    return app.tokens.get(token)
