"""The watermark worker: resemble-perth 1.0.1 (PerthNet "implicit"), run in the `.venv-mark` environment.

Perth needs its own torch, so this file runs there as a separate process and imports nothing from
dubdesk. Loading torch and the model costs seconds, so it stays up: its first line on stdout says it is
ready, then each JSON request line on stdin gets one JSON reply line (perth prints to stdout; that goes
to stderr), until stdin ends. A request carries a batch:

  -> {"ready": true, "load_s": ..., "backend": ...}    (or {"error": "one line"} and exit code 1)
  {"task": "embed", "items": [{"input": "in.wav", "output": "out.wav"}, ...]}
  {"task": "detect", "items": [{"input": "any.wav|flac|mp3|m4a|mp4"}, ...], "threshold": 0.8}
      (a file under MIN_DETECT_S is not judged: its score is null)
  -> {"ok": true, "task": ..., "items": [<one result per item, or {"error": ...}>, ...],
      "elapsed_s": ..., "peak_rss_mb": ...}
  a request that cannot run at all -> {"error": "one line"}, and the worker waits for the next.

Embedding marks every channel on its own and keeps the file's rate, channels, subtype and high band:
the model works at 32 kHz, and perth's own apply_watermark round-trips the whole signal through that
rate (losing everything above 16 kHz), so only the difference the model makes is resampled back and
added to the untouched original. Detection scores every channel of every audio stream (a delivered
video carries the dub as an extra track); the file's score is the highest.

Memory and time do not grow with a file's length: embedding reads, marks and writes CHUNK_S at a time,
each chunk marked with CONTEXT_S of its neighbours around it (only its own part of the mark is kept),
so an hour's bed needs what half a minute needs. Detection reads at most WINDOWS windows of WINDOW_S,
spread over the file (windows of silence do not count and the next is read), and a channel's score is
its mean over them: the mark is in every stretch of marked audio, so a file need not be decoded whole
to be found marked.
"""
import contextlib
import ctypes
import importlib.util
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import types

MODEL_RATE = 32000
CHUNK_S, CONTEXT_S = 30.0, 1.0  # embedding: marked at a time; read either side and left unwritten
WINDOW_S, WINDOWS = 10.0, 4  # detection: scored at most, per stream, among windows with sound
DEFAULT_THRESHOLD = 0.8  # measured: clean real speech scores up to 0.66, marked audio (also after MP3/AAC) >= 0.94
# Shorter than this, a file is not judged (score None): on the first 0.2-0.5 s of 100 marked and 100 clean
# delivered line clips the detector missed 1-5 marks and found one in clean speech at each length; at 0.75 s
# and 1 s, none either way (marked at least 0.87, clean at most 0.46).
MIN_DETECT_S = 0.75


class ItemError(Exception):
    """One item cannot be done; the others still are."""


def _install_stand_ins():
    """Stand-ins for what perth imports but this worker does not need from the real package.

    - pkg_resources: perth uses resource_filename only; setuptools >= 81 (pulled by torch) dropped it.
    - librosa: perth imports resample only; this worker resamples itself, so librosa's numba stack is spared.
    - torchaudio.transforms: no torchaudio build matches the CPU torch 2.13; perth only constructs
      Spectrogram(power=None), InverseSpectrogram and TimeStretch (never called, but its buffer is in the
      checkpoint). These, on torch.stft/istft with the same buffer names, give bit-identical output.
    Returns which torchaudio is in use.
    """
    import torch
    from torch import nn

    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        module = types.ModuleType("pkg_resources")

        def resource_filename(package, name):
            return os.path.join(list(importlib.util.find_spec(package).submodule_search_locations)[0], name)

        module.resource_filename = resource_filename
        sys.modules["pkg_resources"] = module

    try:
        import librosa  # noqa: F401
    except ImportError:
        module = types.ModuleType("librosa")
        module.resample = lambda y, *, orig_sr, target_sr, **_: _resample(y, orig_sr, target_sr)
        sys.modules["librosa"] = module

    try:
        import torchaudio.transforms  # noqa: F401
        return "torchaudio " + sys.modules["torchaudio"].__version__
    except Exception:  # missing, or its compiled library does not load with this torch (OSError)
        for name in [name for name in sys.modules if name == "torchaudio" or name.startswith("torchaudio.")]:
            del sys.modules[name]

    class _Transform(nn.Module):
        def __init__(self, n_fft=400, win_length=None, hop_length=None, pad=0, window_fn=torch.hann_window,
                     normalized=False, wkwargs=None, center=True, pad_mode="reflect", onesided=True):
            super().__init__()
            if pad or normalized:
                raise NotImplementedError("torchaudio stand-in: only pad=0, normalized=False")
            self.n_fft, self.win_length = n_fft, win_length or n_fft
            self.hop_length = hop_length or self.win_length // 2
            self.center, self.pad_mode, self.onesided = center, pad_mode, onesided
            self.register_buffer("window", window_fn(self.win_length, **(wkwargs or {})))

    class Spectrogram(_Transform):
        def __init__(self, *args, power=2.0, return_complex=None, **kwargs):
            super().__init__(*args, **kwargs)
            if power is not None:
                raise NotImplementedError("torchaudio stand-in: only power=None")

        def forward(self, x):
            shape = x.size()
            spec = torch.stft(x.reshape(-1, shape[-1]), n_fft=self.n_fft, hop_length=self.hop_length,
                              win_length=self.win_length, window=self.window, center=self.center,
                              pad_mode=self.pad_mode, normalized=False, onesided=self.onesided, return_complex=True)
            return spec.reshape(shape[:-1] + spec.shape[-2:])

    class InverseSpectrogram(_Transform):
        def forward(self, spec, length=None):
            shape = spec.size()
            wave = torch.istft(spec.reshape(-1, shape[-2], shape[-1]), n_fft=self.n_fft, hop_length=self.hop_length,
                               win_length=self.win_length, window=self.window, center=self.center, normalized=False,
                               onesided=self.onesided, length=length, return_complex=False)
            return wave.reshape(shape[:-2] + wave.shape[-1:])

    class TimeStretch(nn.Module):
        def __init__(self, hop_length=None, n_freq=201, fixed_rate=None):
            super().__init__()
            hop_length = n_freq - 1 if hop_length is None else hop_length
            self.register_buffer("phase_advance", torch.linspace(0, math.pi * hop_length, n_freq)[..., None])

    torchaudio = types.ModuleType("torchaudio")
    torchaudio.__version__ = "stand-in"
    transforms = types.ModuleType("torchaudio.transforms")
    transforms.Spectrogram, transforms.InverseSpectrogram, transforms.TimeStretch = (Spectrogram, InverseSpectrogram,
                                                                                     TimeStretch)
    torchaudio.transforms = transforms
    sys.modules["torchaudio"], sys.modules["torchaudio.transforms"] = torchaudio, transforms
    return "torchaudio stand-in (torch.stft/istft)"


def _resample(x, rate_in, rate_out):
    """Polyphase resampling along the last axis (the family perth's detector uses)."""
    import numpy as np
    from scipy.signal import resample_poly

    if rate_in == rate_out:
        return np.asarray(x)
    common = math.gcd(int(rate_in), int(rate_out))
    return resample_poly(x, rate_out // common, rate_in // common, axis=-1)


def _stream_readers(path):
    """Every audio stream of `path` as (seconds, read) where read(start_s, seconds) gives float32
    [channels, frames] and the rate: soundfile where it can, else ffmpeg seeking to each window."""
    import numpy as np
    import soundfile as sf

    try:
        info = sf.info(path)
    except sf.LibsndfileError:
        info = None
    if info is not None:
        def read_file(start_s, seconds):
            with sf.SoundFile(path) as source:
                source.seek(int(start_s * info.samplerate))
                return source.read(int(seconds * info.samplerate), dtype="float32", always_2d=True).T, info.samplerate

        return [(info.frames / info.samplerate, read_file)]
    try:
        probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries",
                                "stream=sample_rate,channels:format=duration", "-of", "json", path],
                               capture_output=True, text=True, check=True)
        described = json.loads(probe.stdout)
        duration = float(described["format"]["duration"])
    except FileNotFoundError:
        raise ItemError(f"cannot decode {path}: soundfile cannot and ffmpeg is not installed") from None
    except (subprocess.CalledProcessError, KeyError, ValueError) as error:
        raise ItemError(f"cannot decode {path}: {_detail(error)}") from None

    def reader(index, rate, channels):
        def read_stream(start_s, seconds):
            try:
                raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-ss", f"{start_s:.3f}", "-t", f"{seconds:.3f}",
                                      "-i", path, "-map", f"0:a:{index}", "-f", "f32le", "-ac", str(channels), "-ar", str(rate), "-"],
                                     capture_output=True, check=True).stdout
            except subprocess.CalledProcessError as error:
                raise ItemError(f"cannot decode {path}: {_detail(error)}") from None
            return np.frombuffer(raw, dtype="<f4").reshape(-1, channels).T.copy(), rate

        return read_stream

    streams = [(duration, reader(index, int(stream["sample_rate"]), int(stream["channels"])))
               for index, stream in enumerate(described.get("streams", []))]
    if not streams:
        raise ItemError(f"{path} has no audio stream")
    return streams


def _detail(error):
    detail = getattr(error, "stderr", None) or str(error)
    detail = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else detail
    return (detail.strip().splitlines() or ["?"])[-1]


def _spread(count):
    """Window indices 0..count-1 in an order that covers the file early (the golden-ratio sequence)."""
    return sorted(range(count), key=lambda index: (index * 0.6180339887) % 1.0)


class Marker:
    """The PerthNet model, loaded once per process."""

    def __init__(self):
        import torch

        self.torch = torch
        self.backend = _install_stand_ins()
        # imported from its module: `import perth` silently sets the class to None when an import fails
        from perth.perth_net.perth_net_implicit.perth_watermarker import PerthImplicitWatermarker
        from perth.perth_net.perth_net_implicit.utils import denormalize_spectrogram

        self.denormalize = denormalize_spectrogram

        with contextlib.redirect_stdout(sys.stderr):  # "loaded PerthNet (Implicit) at step ..."
            self.net = PerthImplicitWatermarker(device="cpu").perth_net
        self.net.eval()
        if self.net.hp.sample_rate != MODEL_RATE:
            raise RuntimeError(f"unexpected model rate {self.net.hp.sample_rate}")

    def _at_model_rate(self, x, rate, what):
        import numpy as np

        x32 = np.ascontiguousarray(_resample(x.astype(np.float64), rate, MODEL_RATE), dtype=np.float32)
        if x32.shape[1] < self.net.hp.n_fft:
            raise ItemError(f"audio too short to {what} (needs more than 64 ms)")
        return x32

    def mark(self, x, rate):
        """x: float64 [channels, n] -> the mark to add, same shape (every channel marked as one batch; channels
        that are one signal, as a mono original decoded to stereo, marked once: the same mark, half the work)."""
        import numpy as np

        if _one_signal(x):
            return np.repeat(self.mark(x[:1], rate), x.shape[0], axis=0)
        ap, torch = self.net.ap, self.torch
        with torch.inference_mode():
            mag, phase = ap.signal_to_magphase(torch.from_numpy(self._at_model_rate(x, rate, "mark")))
            # perth's magphase_to_signal of the encoded magnitudes, less the same round trip of the unmarked
            # ones, so only the encoder's change remains: the iSTFT is linear, so it is taken once, of the
            # difference of the two spectra, which share their phase
            spectrum = (self._amplitude(self.net.encoder(mag)[0]) - self._amplitude(mag)) * torch.exp(1.j * phase)
            delta = np.nan_to_num(ap.inv_spectrogram(spectrum).numpy(), nan=0.0, posinf=0.0, neginf=0.0)
        delta = _resample(delta.astype(np.float64), MODEL_RATE, rate)[:, :x.shape[1]]
        return np.pad(delta, ((0, 0), (0, x.shape[1] - delta.shape[1])))  # iSTFT may end a little early

    def _amplitude(self, normalised):
        """Magnitudes from perth's normalised log-magnitude spectrogram (as its magphase_to_cx)."""
        return 10.0 ** ((self.denormalize(self.net.ap.hp, normalised) / 20).clip(max=10))

    def scores(self, x, rate):
        """x: [channels, n] -> each channel's decoder confidence, 0-1; None for a digitally silent channel."""
        if _one_signal(x):
            return self.scores(x[:1], rate) * x.shape[0]
        with self.torch.inference_mode():
            mag, _ = self.net.ap.signal_to_magphase(self.torch.from_numpy(self._at_model_rate(x, rate, "detect")))
            confidence = self.net.decoder(mag).clip(0.0, 1.0)
        return [None if math.isnan(value) else round(value, 4) for value in confidence.tolist()]  # silence: 0/0


def _one_signal(x):
    """Whether every channel of x [channels, n] is the same signal."""
    return x.shape[0] > 1 and all((x[channel] == x[0]).all() for channel in range(1, x.shape[0]))


def embed(item, marker):
    """Write `output`: `input` with the mark added; the same rate, channels, subtype and container."""
    import soundfile as sf

    source, target = item.get("input"), item.get("output")
    if not source or not target:
        raise ItemError("embed needs 'input' and 'output'")
    try:
        info = sf.info(source)
    except (sf.LibsndfileError, OSError) as error:
        raise ItemError(f"cannot read {source}: {str(error).splitlines()[0]}") from None
    folder = os.path.dirname(os.path.abspath(target))
    handle, partial = tempfile.mkstemp(prefix=".mark-", suffix=os.path.splitext(target)[1], dir=folder)
    os.close(handle)
    try:  # written beside the target and renamed: never a half-written file under its name
        with sf.SoundFile(partial, "w", samplerate=info.samplerate, channels=info.channels, subtype=info.subtype,
                          format=info.format, endian=info.endian) as out:
            totals = _embed_chunks(source, info, out, marker)
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
    signal, mark, clipped = totals
    return {"output": target, "sample_rate": info.samplerate, "channels": info.channels,
            "seconds": round(info.frames / info.samplerate, 3),
            "snr_db": round(10 * math.log10(signal / mark), 2) if signal > 0 and mark > 0 else None,
            "clipped_samples": clipped}


def _embed_chunks(source, info, out, marker):
    """Mark `source` into `out` CHUNK_S at a time, each chunk with CONTEXT_S of its neighbours; returns the
    signal's and the mark's energy and the samples clipped."""
    import numpy as np
    import soundfile as sf

    rate, total = info.samplerate, info.frames
    chunk, context = int(CHUNK_S * rate), int(CONTEXT_S * rate)
    integer = not info.subtype.startswith(("FLOAT", "DOUBLE"))  # integer PCM: full scale is the limit
    signal = mark = 0.0
    clipped = 0
    with sf.SoundFile(source) as reader:
        for begin in range(0, max(total, 1), chunk):
            low, high = max(0, begin - context), min(total, begin + chunk + context)
            reader.seek(low)
            x = reader.read(high - low, dtype="float64", always_2d=True).T
            if not np.isfinite(x).all():
                raise ItemError(f"{source} holds NaN or infinite samples")
            keep = slice(begin - low, begin - low + min(chunk, total - begin))
            x, delta = x[:, keep], marker.mark(x, rate)[:, keep]
            y = x + delta
            if integer:
                limit = 1.0 - 2.0 ** -23
                clipped += int((np.abs(y) > limit).sum())
                y = np.clip(y, -limit, limit)
            signal, mark = signal + float((x ** 2).sum()), mark + float((delta ** 2).sum())
            out.write(y.T)
    return signal, mark, clipped


def detect(item, marker, threshold):
    """The highest channel score over every audio stream of `input`, and whether it reaches `threshold`;
    None for both where the longest stream is under MIN_DETECT_S."""
    source = item.get("input")
    if not source or not os.path.isfile(source):
        raise ItemError(f"no such file: {source}")
    readers = _stream_readers(source)
    seconds = max(length for length, _ in readers)
    if seconds < MIN_DETECT_S:
        return {"score": None, "present": None, "seconds": round(seconds, 3)}
    streams = [_stream_scores(marker, length, read) for length, read in readers]
    heard = [score for channels in streams for score in channels if score is not None]
    score = max(heard, default=0.0)  # nothing but silence: nothing to find
    return {"score": score, "present": score >= threshold, "stream_scores": streams}


def _stream_scores(marker, seconds, read):
    """Each channel's mean score over up to WINDOWS windows with sound; None for a channel never heard."""
    heard, windows = {}, 0
    for index in _spread(max(1, math.ceil(seconds / WINDOW_S))):
        x, rate = read(index * WINDOW_S, WINDOW_S)
        if seconds > WINDOW_S and x.shape[1] * MODEL_RATE < marker.net.hp.n_fft * rate:  # a last sliver, under a frame
            continue
        scores = marker.scores(x, rate)
        for channel, score in enumerate(scores):
            if score is not None:
                heard.setdefault(channel, []).append(score)
        windows += any(score is not None for score in scores)
        if windows == WINDOWS:
            break
    channels = max(heard, default=-1) + 1
    return [round(sum(heard[c]) / len(heard[c]), 4) if c in heard else None for c in range(channels)]


def main():
    started = time.perf_counter()
    stdout, sys.stdout = sys.stdout, sys.stderr  # stdout carries the replies only

    def reply(message):
        stdout.write(json.dumps(message, allow_nan=False) + "\n")
        stdout.flush()

    try:
        marker = Marker()
    except Exception as error:  # whatever it was, the caller gets one line
        reply({"error": _one_line(error)})
        return 1
    reply({"ready": True, "load_s": round(time.perf_counter() - started, 3), "backend": marker.backend})
    for line in sys.stdin:
        begun = time.perf_counter()
        try:
            reply({**handle(json.loads(line), marker), "elapsed_s": round(time.perf_counter() - begun, 3),
                   "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})
        except Exception as error:
            reply({"error": _one_line(error)})
        _give_back_memory()
    return 0


def _give_back_memory():
    """Return the freed heap of a batch to the system: a worker kept between batches idles at what loading
    took (about 340 MB, not the 520 MB a long bed's marking reached)."""
    with contextlib.suppress(OSError, AttributeError):  # glibc only
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def handle(request, marker):
    """One batch: every item done, or its own error."""
    task, items = request.get("task"), request.get("items")
    if task not in ("embed", "detect") or not isinstance(items, list):
        raise ValueError("expected {'task': 'embed' | 'detect', 'items': [...]}")
    threshold = float(request.get("threshold", DEFAULT_THRESHOLD))
    results = []
    for item in items:
        try:
            results.append(embed(item, marker) if task == "embed" else detect(item, marker, threshold))
        except ItemError as error:
            results.append({"error": str(error)})
    return {"ok": True, "task": task, "items": results}


def _one_line(error):
    return f"{type(error).__name__}: {' '.join(str(error).split())}"[:500]


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # every reply is written: skip tearing down torch (0.7 s) while the caller waits
