"""Piper (piper-tts, GPL-3.0) work, always in a separate program: `python -m dubdesk.piper.worker`.
The speech engine (synth.engines.PiperEngine) starts it only after the consent check."""
