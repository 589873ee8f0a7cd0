"""Stock voices: the voices dubdesk ships (embedded engines' own voices), registered with open-ended
consent for their languages the first time a data folder's registry is opened."""
from __future__ import annotations

import json
from pathlib import Path

from .records import ConsentTerms, StockVoice
from .registry import ConsentRegistry

STOCK_FILE = Path(__file__).resolve().parent / "stock.json"  # package data: installed with dubdesk
STOCK_REGISTRAR = "dubdesk (stock voices)"


def register_stock_voices(registry: ConsentRegistry, stock_file: Path = STOCK_FILE) -> None:
    """Register every stock voice not yet in the registry, with open-ended consent for its languages."""
    known = set(registry.profile_ids())
    for entry in json.loads(stock_file.read_text())["voices"]:
        if entry["profile_id"] not in known:
            registry.create(entry["actor"], ConsentTerms(tuple(entry["languages"]), uses=("*",), terms_ref="stock voice"),
                            stock=StockVoice(entry["engine"], entry["voice"], entry["weights_licence"], entry["source"]),
                            profile_id=entry["profile_id"], by=STOCK_REGISTRAR)
