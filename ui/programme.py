"""The programme view on the review page: the source's picture (or waveform), an A/B player of source,
dub and mix, and a lane per speaker with a block per line. services.programme decides what is shown;
this module hands the browser the files and the view as JSON, and programme.js draws and plays it
(no library, nothing fetched from elsewhere)."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import gradio as gr

from dubdesk.services.programme import LOOKS, PREVIEWS, ProgrammeView, Waveform

from .files import Handouts

HEAD = f"<script>{Path(__file__).with_name('programme.js').read_text(encoding='utf-8')}</script>"
CSS = Path(__file__).with_name("programme.css").read_text(encoding="utf-8")
FILE_ROUTE = "/gradio_api/file="
RENDER = "(data) => window.dubdeskProgramme && window.dubdeskProgramme.render(data)"
FOLLOW = "(line) => { window.dubdeskProgramme && window.dubdeskProgramme.follow(line); }"


@dataclass(frozen=True)
class ProgrammePanel:
    """The view's components: where programme.js draws, the view's data it draws from, and the buttons
    it presses to have a preview made (a person may press them too)."""

    data: gr.Textbox
    builds: dict[str, gr.Button]


def panel() -> ProgrammePanel:
    with gr.Accordion("Programme: picture, A/B player, speakers' lines", open=True, elem_id="programme"):
        gr.HTML('<div id="programme-view"><p class="pv-empty">Load the lines to see the programme.</p></div>',
                elem_id="programme-frame", js_on_load=None)
        with gr.Row():
            builds = {kind: gr.Button(f"Make the {kind} preview", size="sm", elem_id=f"programme-build-{kind}", scale=0,
                                      min_width=190) for kind in PREVIEWS}
        data = gr.Textbox(visible=False, elem_id="programme-data")
    return ProgrammePanel(data, builds)


def view_json(view: ProgrammeView, language: str, handouts: Handouts, request: gr.Request) -> str:
    """The view as programme.js reads it, with each file handed to the person asking (and nobody else)."""
    def url(path: Path, digest: str) -> str:
        return FILE_ROUTE + quote(handouts.give(request, path, digest))

    return json.dumps({
        "key": f"{view.source_sha256}:{language}", "duration": view.duration_s, "video": view.has_video,
        "source": url(view.source, view.source_sha256), "looks": LOOKS,
        "previews": {kind: {"ready": p.ready, "url": url(p.path, view.takes_key) if p.ready else None}
                     for kind, p in view.previews.items()},
        "lanes": [{"speaker": lane.speaker, "label": lane.label, "blocks": [
            {"id": b.line_id, "start": b.span.start, "end": b.span.end, "look": b.look, "verdict": b.verdict,
             "decision": b.decision, "text": b.text} for b in lane.blocks]} for lane in view.lanes],
        "waveform": _waveform(view.waveform)})


def _waveform(waveform: Waveform | None) -> dict | None:
    if waveform is None:
        return None
    return {"bucket_s": waveform.bucket_s, "low": base64.b64encode(waveform.low.tobytes()).decode(),
            "high": base64.b64encode(waveform.high.tobytes()).decode()}
