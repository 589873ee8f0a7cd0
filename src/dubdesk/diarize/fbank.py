"""Kaldi-compatible log-mel filterbank in plain torch (what CAM++ was trained on).

Matches torchaudio.compliance.kaldi.fbank with: 25 ms povey windows every 10 ms, no dither,
DC removal, pre-emphasis 0.97, FFT size rounded to a power of two, 80 mel bins from 20 Hz to
Nyquist, log with float epsilon floor, snip_edges. Written here so the embedded path needs
no torchaudio (whose PyPI build is CUDA-only).
"""
from __future__ import annotations

import torch

SAMPLE_RATE = 16000
FRAME_LENGTH = 400  # 25 ms
FRAME_SHIFT = 160  # 10 ms
FFT_SIZE = 512
MEL_BINS = 80
LOW_HZ = 20.0

def _mel(hz: torch.Tensor | float) -> torch.Tensor:
    return 1127.0 * torch.log(1.0 + torch.as_tensor(hz, dtype=torch.float64) / 700.0)

def _mel_filters() -> torch.Tensor:
    """(MEL_BINS, FFT_SIZE // 2 + 1) triangular filters, equally spaced on Kaldi's mel scale."""
    low, high = _mel(LOW_HZ), _mel(SAMPLE_RATE / 2)
    delta = (high - low) / (MEL_BINS + 1)
    left = low + torch.arange(MEL_BINS, dtype=torch.float64) * delta
    centre, right = left + delta, left + 2 * delta
    bins = _mel(torch.arange(FFT_SIZE // 2, dtype=torch.float64) * SAMPLE_RATE / FFT_SIZE)[None, :]
    up = (bins - left[:, None]) / (centre - left)[:, None]
    down = (right[:, None] - bins) / (right - centre)[:, None]
    weights = torch.clamp(torch.minimum(up, down), min=0.0)
    return torch.nn.functional.pad(weights, (0, 1)).float()  # the Nyquist bin gets weight 0

_FILTERS = _mel_filters()
_WINDOW = torch.hann_window(FRAME_LENGTH, periodic=False, dtype=torch.float64).pow(0.85).float()

def fbank(waveform: torch.Tensor) -> torch.Tensor:
    """(frames, 80) log-mel energies of a 1-D 16 kHz waveform in [-1, 1]."""
    if waveform.numel() < FRAME_LENGTH:
        waveform = torch.nn.functional.pad(waveform, (0, FRAME_LENGTH - waveform.numel()))
    frames = waveform.float().unfold(0, FRAME_LENGTH, FRAME_SHIFT)
    frames = frames - frames.mean(dim=1, keepdim=True)
    frames = torch.cat([frames[:, :1] * (1 - 0.97), frames[:, 1:] - 0.97 * frames[:, :-1]], dim=1)
    spectrum = torch.fft.rfft(frames * _WINDOW, n=FFT_SIZE).abs().pow(2)
    energies = spectrum @ _FILTERS.T
    return torch.log(torch.clamp(energies, min=torch.finfo(torch.float32).eps))

