// The review page's programme view (ui/programme.py sends the data): the source's picture or waveform,
// one player of source, dub or mix switched in place, and a lane per speaker with a block per line.
//
// The source element (video, or audio for an audio source) is the clock: it always plays, muted while
// a preview is heard, so switching never moves the position or stops playback; the preview heard is
// kept on the source's time. A block opens its line in the line editor (the line box and Enter, as a
// person would) and loops it; a line opened elsewhere is shown and sought here.
(() => {
  const state = { data: null, key: null, mode: "source", wanted: null, current: null, loop: false, pxPerS: 0, index: {}, ticking: false };
  const SYNC_S = 0.15;  // a preview further than this from the source's time is put back on it
  const LANE_PX = 30;

  const view = () => document.getElementById("programme-view");
  const master = () => view()?.querySelector(".pv-master");
  const preview = (kind) => document.getElementById(`programme-${kind}`);
  const heard = () => (state.mode === "source" ? master() : preview(state.mode));
  const follower = () => (state.mode === "source" ? null : preview(state.mode));

  function element(tag, attributes = {}, children = []) {
    const made = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === "text") made.textContent = value; else made.setAttribute(name, value);
    }
    for (const child of children) made.append(child);
    return made;
  }

  function clock(seconds) {
    const whole = Math.max(0, seconds || 0), h = Math.floor(whole / 3600), m = Math.floor((whole % 3600) / 60);
    const s = (whole % 60).toFixed(1).padStart(4, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${String(m).padStart(2, "0")}:${s}`;
  }

  function say(text) {
    const status = document.getElementById("programme-status");
    if (status) status.textContent = text;
  }

  function render(json) {
    const root = view();
    const data = json ? JSON.parse(json) : null;
    if (!root) return;
    if (!data) {
      root.innerHTML = '<p class="pv-empty">Load the lines to see the programme.</p>';
      Object.assign(state, { data: null, key: null, current: null, wanted: null, mode: "source" });
      return;
    }
    state.data = data;
    state.index = {};
    for (const lane of data.lanes) for (const block of lane.blocks) state.index[block.id] = block;
    if (state.key !== data.key || !master()) build(root, data);
    previews();
    lanes();
    wave();
    if (state.current) state.current = state.index[state.current.id] || null;
    highlight();
  }

  function build(root, data) {
    Object.assign(state, { key: data.key, mode: "source", wanted: null, current: null });
    const source = element(data.video ? "video" : "audio", { class: "pv-master", id: "programme-source", preload: "auto", src: data.source });
    if (data.video) source.setAttribute("playsinline", "");
    const modes = ["source", "dub", "mix"].map((mode) => {
      const button = element("button", { type: "button", id: `programme-ab-${mode}`, "data-mode": mode, text: mode === "source" ? "Source" : `${mode[0].toUpperCase()}${mode.slice(1)} preview` });
      button.addEventListener("click", () => choose(mode));
      return button;
    });
    const play = element("button", { type: "button", id: "programme-play", text: "▶ Play" });
    play.addEventListener("click", toggle);
    const loop = element("input", { type: "checkbox", id: "programme-loop" });
    loop.addEventListener("change", () => { state.loop = loop.checked; });
    const zoomIn = element("button", { type: "button", id: "programme-zoom-in", title: "Zoom in", text: "+" });
    const zoomOut = element("button", { type: "button", id: "programme-zoom-out", title: "Zoom out", text: "−" });
    zoomIn.addEventListener("click", () => zoom(2));
    zoomOut.addEventListener("click", () => zoom(0.5));
    const legend = Object.entries(data.looks).map(([look, meaning]) =>
      element("span", { class: "pv-key" }, [element("i", { class: `pv-swatch pv-look-${look}`, "data-look": look }), meaning]));
    legend.splice(1, 0, element("span", { class: "pv-key" }, [element("i", { class: "pv-swatch pv-look-approved pv-verdict-fail" }),
      "approved over a failed check"]));
    root.replaceChildren(
      element("div", { class: data.video ? "pv-screen pv-has-video" : "pv-screen" }, [source,
        element("audio", { id: "programme-dub", preload: "auto" }), element("audio", { id: "programme-mix", preload: "auto" })]),
      element("div", { class: "pv-controls" }, [play, element("span", { class: "pv-ab", role: "group", "aria-label": "Hear" }, modes),
        element("label", { class: "pv-loop" }, [loop, " Loop line"]), element("span", { id: "programme-time", text: clock(0) }),
        zoomOut, zoomIn, element("span", { id: "programme-status" })]),
      element("div", { class: "pv-legend", id: "programme-legend" }, legend),
      element("div", { class: "pv-timeline" }, [element("div", { class: "pv-labels", id: "programme-labels" }),
        element("div", { class: "pv-scroll", id: "programme-scroll" }, [element("div", { class: "pv-inner", id: "programme-inner" })])]));
    for (const media of [source, preview("dub"), preview("mix")]) {
      media.addEventListener("loadedmetadata", () => { if (media.dataset.seek) { media.currentTime = Number(media.dataset.seek); delete media.dataset.seek; } });
    }
    source.addEventListener("play", () => { follower()?.play(); play.textContent = "❚❚ Pause"; tick(); });
    source.addEventListener("pause", () => { follower()?.pause(); play.textContent = "▶ Play"; });
    source.addEventListener("seeked", () => { const other = follower(); if (other) other.currentTime = source.currentTime; moved(); });
    const scroll = document.getElementById("programme-scroll");
    scroll.addEventListener("scroll", wave);
    scroll.addEventListener("click", (event) => { if (event.target.closest(".pv-ruler")) seekFromPointer(event); });
    state.pxPerS = Math.min(200, Math.max(4, (scroll.clientWidth || 1000) / Math.max(1, data.duration)));
    marks();
  }

  function previews() {
    for (const kind of ["dub", "mix"]) {
      const media = preview(kind), made = state.data.previews[kind];
      const button = document.getElementById(`programme-ab-${kind}`);
      button.classList.toggle("pv-unmade", !made.ready);
      button.title = made.ready ? "" : "not made yet for these takes: choosing it makes it";
      if (made.ready && media.getAttribute("src") !== made.url) {
        media.src = made.url;
        if (state.mode === kind) align(media);
      } else if (!made.ready && media.getAttribute("src")) {
        media.removeAttribute("src");
        media.load();
        if (state.mode === kind) { choose("source"); say(`The takes changed: the ${kind} preview is made again when you choose it.`); }
      }
    }
    if (state.wanted && state.data.previews[state.wanted].ready) {
      const wanted = state.wanted;
      state.wanted = null;
      choose(wanted);
      say(`${wanted[0].toUpperCase()}${wanted.slice(1)} preview ready.`);
    }
  }

  function align(media) {
    const at = master().currentTime;
    if (media.readyState === 0) media.dataset.seek = String(at); else media.currentTime = at;
  }

  function choose(mode) {
    if (mode !== "source" && !state.data.previews[mode].ready) {
      state.wanted = mode;
      say(`Making the ${mode} preview of these takes (the first time only; a long programme takes a while)…`);
      document.getElementById(`programme-build-${mode}`)?.click();
      return;
    }
    const source = master(), playing = !source.paused;
    for (const kind of ["dub", "mix"]) if (kind !== mode) preview(kind).pause();
    source.muted = mode !== "source";
    state.mode = mode;
    if (mode !== "source") {
      const media = preview(mode);
      align(media);
      if (playing) media.play();
    }
    for (const button of view().querySelectorAll(".pv-ab button")) button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
  }

  function toggle() {
    const source = master();
    if (source.paused) source.play(); else source.pause();
  }

  function seek(seconds) {
    const source = master();
    if (source.readyState === 0) source.dataset.seek = String(seconds); else source.currentTime = seconds;
    const other = follower();
    if (other) { if (other.readyState === 0) other.dataset.seek = String(seconds); else other.currentTime = seconds; }
    moved(seconds);
  }

  function tick() {
    if (state.ticking) return;
    state.ticking = true;
    const step = () => {
      const source = master();
      if (!source || source.paused) { state.ticking = false; moved(); return; }
      const at = source.currentTime, other = follower();
      if (state.loop && state.current && at >= state.current.end) { seek(state.current.start); }
      else if (other && !other.seeking && Math.abs(other.currentTime - at) > SYNC_S) other.currentTime = at;
      moved(at);
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }

  function moved(seconds) {
    const source = master();
    if (!source) return;
    const at = seconds ?? source.currentTime;
    const head = document.getElementById("programme-playhead"), scroll = document.getElementById("programme-scroll");
    if (head) head.style.left = `${at * state.pxPerS}px`;
    const time = document.getElementById("programme-time");
    if (time) time.textContent = clock(at);
    const x = at * state.pxPerS;
    if (scroll && !source.paused && (x < scroll.scrollLeft || x > scroll.scrollLeft + scroll.clientWidth - 40)) scroll.scrollLeft = x - 40;
  }

  function marks() {
    const inner = document.getElementById("programme-inner"), data = state.data;
    inner.style.width = `${Math.ceil(data.duration * state.pxPerS) + 2}px`;
    const every = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800].find((s) => s * state.pxPerS >= 70) || 3600;
    const ruler = element("div", { class: "pv-ruler" });
    for (let t = 0; t <= data.duration; t += every) ruler.append(element("span", { class: "pv-tick", style: `left:${t * state.pxPerS}px`, text: clock(t).replace(/\.0$/, "") }));
    inner.querySelector(".pv-ruler")?.remove();
    inner.prepend(ruler);
  }

  function lanes() {
    const inner = document.getElementById("programme-inner"), labels = document.getElementById("programme-labels"), data = state.data;
    for (const old of inner.querySelectorAll(".pv-lane, .pv-wave, #programme-playhead")) old.remove();
    labels.replaceChildren(element("div", { class: "pv-label pv-label-ruler" }));
    if (data.waveform) {
      inner.append(element("canvas", { class: "pv-wave", id: "programme-waveform", height: "56" }));
      labels.append(element("div", { class: "pv-label pv-label-wave", text: "Source" }));
    }
    for (const lane of data.lanes) {
      labels.append(element("div", { class: "pv-label", title: lane.speaker, text: lane.label }));
      const row = element("div", { class: "pv-lane", "data-speaker": lane.speaker });
      for (const block of lane.blocks) {
        const made = element("div", {
          class: `pv-block pv-look-${block.look} pv-verdict-${block.verdict === "-" ? "none" : block.verdict}`, "data-line": block.id, "data-look": block.look,
          style: `left:${block.start * state.pxPerS}px;width:${Math.max(3, (block.end - block.start) * state.pxPerS)}px`,
          title: `${block.id} · ${clock(block.start)}–${clock(block.end)} · ${data.looks[block.look]} · QC ${block.verdict} · ${block.decision}\n${block.text}`,
        }, [element("span", { text: block.id })]);
        made.addEventListener("click", () => pick(block.id));
        row.append(made);
      }
      inner.append(row);
    }
    inner.append(element("div", { id: "programme-playhead", class: "pv-playhead" }));
    moved();
  }

  function wave() {
    const canvas = document.getElementById("programme-waveform"), scroll = document.getElementById("programme-scroll");
    const shape = state.data?.waveform;
    if (!canvas || !shape) return;
    if (!shape.lowBytes) {
      shape.lowBytes = decode(shape.low);
      shape.highBytes = decode(shape.high);
      shape.loudest = 1;  // drawn to the programme's loudest
      for (let i = 0; i < shape.highBytes.length; i++) shape.loudest = Math.max(shape.loudest, shape.highBytes[i], -shape.lowBytes[i]);
    }
    const width = scroll.clientWidth, height = canvas.height, middle = height / 2;
    canvas.width = width;
    canvas.style.left = `${scroll.scrollLeft}px`;
    const pen = canvas.getContext("2d");
    pen.clearRect(0, 0, width, height);
    pen.fillStyle = "#3d6fb6";
    for (let x = 0; x < width; x++) {
      const from = Math.floor((scroll.scrollLeft + x) / state.pxPerS / shape.bucket_s);
      const to = Math.max(from + 1, Math.floor((scroll.scrollLeft + x + 1) / state.pxPerS / shape.bucket_s));
      if (from >= shape.lowBytes.length) break;
      let low = 127, high = -127;
      for (let i = from; i < Math.min(to, shape.lowBytes.length); i++) { low = Math.min(low, shape.lowBytes[i]); high = Math.max(high, shape.highBytes[i]); }
      pen.fillRect(x, middle - (high / shape.loudest) * middle, 1, Math.max(1, ((high - low) / shape.loudest) * middle));
    }
  }

  function decode(text) {
    return new Int8Array(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)).buffer);
  }

  function zoom(factor) {
    const scroll = document.getElementById("programme-scroll"), at = master()?.currentTime || 0;
    state.pxPerS = Math.min(400, Math.max(0.05, state.pxPerS * factor));
    marks();
    lanes();
    highlight();
    scroll.scrollLeft = Math.max(0, at * state.pxPerS - scroll.clientWidth / 2);
    wave();
  }

  function seekFromPointer(event) {
    const scroll = document.getElementById("programme-scroll");
    seek((event.clientX - scroll.getBoundingClientRect().left + scroll.scrollLeft) / state.pxPerS);
  }

  function highlight() {
    for (const old of view()?.querySelectorAll(".pv-current") || []) old.classList.remove("pv-current");
    if (!state.current) return;
    const block = view().querySelector(`.pv-block[data-line="${CSS.escape(state.current.id)}"]`);
    if (!block) return;
    block.classList.add("pv-current");
    const scroll = document.getElementById("programme-scroll"), x = state.current.start * state.pxPerS;
    if (x < scroll.scrollLeft || x > scroll.scrollLeft + scroll.clientWidth - 40) { scroll.scrollLeft = Math.max(0, x - 80); wave(); }
  }

  function show(line) {
    state.current = line;
    highlight();
    seek(line.start);
  }

  // a block clicked: the line opens in the editor, looping
  function pick(id) {
    const line = state.index[id];
    if (!line) return;
    state.loop = true;
    document.getElementById("programme-loop").checked = true;
    show(line);
    const box = document.querySelector("#review-line textarea, #review-line input");
    box.value = id;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.dispatchEvent(new KeyboardEvent("keypress", { key: "Enter", code: "Enter", keyCode: 13, bubbles: true }));
  }

  // a line opened in the editor (from the table, the keys, next / previous)
  function follow(id) {
    const line = state.index[(id || "").trim()];
    if (line && state.current?.id !== line.id) show(line);
  }

  window.dubdeskProgramme = { render, follow, choose, seek, state, position: () => master()?.currentTime ?? null, heard };
})();
