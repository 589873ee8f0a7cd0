"""Keyboard shortcuts for the review page, put into the page's head (they press the page's own
buttons and players, so every action still goes through its guarded handler)."""
from __future__ import annotations

import json

# Alt+letter, so typing in a text box never triggers one.
SHORTCUTS = {"n": "#review-next", "p": "#review-previous", "a": "#review-approve", "r": "#review-reject"}
PLAYERS = {"s": "#review-source", "d": "#review-dub"}

HEAD = """<script>
document.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  const key = event.key.toLowerCase();
  const buttons = BUTTONS, players = PLAYERS;
  if (buttons[key]) {
    document.querySelector(buttons[key])?.click();
  } else if (players[key]) {
    const player = document.querySelector(players[key]);
    const play = player?.querySelector("button.play-pause-button, button[aria-label='Play'], button[aria-label='Pause']");
    if (play) play.click(); else player?.querySelector("audio")?.play();
  } else {
    return;
  }
  event.preventDefault();
});
</script>""".replace("BUTTONS", json.dumps(SHORTCUTS)).replace("PLAYERS", json.dumps(PLAYERS))

# Verdict and decision columns stay in view at 1366 px: the table scrolls inside itself, never the page.
CSS = "#review-table { overflow-x: auto; } #whoami { display: inline-block; } #logout { max-width: 110px; }"
