"""Verify a delivered dub, a whole package or a single file received alone.

A package is checked as a whole first, because a file removed leaves nothing behind to check: its
manifest present and signed, every file the manifest lists present with its SHA-256, every file
present listed, and a file of a type no package holds reported. Then each audio or video file: the
"AI beta" label in its name and metadata, its C2PA manifest (signed by a certificate the trusted
root issued, hashes intact), the line its name names against the line its credential was signed
for, the watermark where the detector is installed and the file holds generated speech, and every
consent its lines were generated under: known here, covering the line on the day it was generated,
and not revoked since. So is the title clearance the delivery went out under (its credential carries
the disclosure): in this workbench's history, signed, covering the delivery's language, territories and
uses on the day it was delivered, and not revoked since. A consent or clearance that cannot be checked
fails: a damaged or missing record is how a revocation would be hidden. A file that cannot be read is one finding, and the others are
still checked. The detector runs once for all the readable files (it takes seconds to start, and
one unreadable file would fail the whole batch).
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import soundfile as sf

from .audio import media_argument
from .errors import BadInputError, DubdeskError
from .export.credentials import ASSERTION_LABEL, MIME_TYPES, ProvenanceReport, check_detached, read_provenance
from .export.delivery import DOCUMENT_SUFFIXES, MANIFEST, SIGNATURE
from .files import sha256_file
from .labels import AI_LABEL, bext_description, read_labels, read_wav_chunk
from .rights.records import RightsError
from .rights.registry import ClearanceRegistry
from .script import LINE_ID
from .tools import run
from .voices.records import ProfileRecord
from .voices.registry import ConsentError, ConsentRegistry
from .watermark import MIN_DETECT_S, Watermarker

# A damaged file: c2pa's parser (BadInputError), libsndfile, our RIFF chunk reader (ValueError, struct.error).
UNREADABLE = (BadInputError, sf.SoundFileError, ValueError, struct.error, OSError)
PACKAGE_TYPES = ", ".join(sorted({*MIME_TYPES, *DOCUMENT_SUFFIXES}))


@dataclass(frozen=True)
class Finding:
    file: str
    check: str
    ok: bool | None  # None: not checked (the tool or the record is not at hand)
    message: str


@dataclass(frozen=True)
class _Reading:
    """What one audio or video file says about itself: its C2PA report and where its label is."""

    report: ProvenanceReport
    tags: Finding

    @property
    def credential(self) -> dict:
        return self.report.assertions.get(ASSERTION_LABEL) or {}


class Verifier:
    def __init__(self, registry: ConsentRegistry, root_pem: bytes, watermarker: Watermarker | None,
                 clearances: ClearanceRegistry | None = None) -> None:
        self.registry, self.root_pem, self.watermarker, self.clearances = registry, root_pem, watermarker, clearances

    def verify(self, target: Path) -> list[Finding]:
        target = Path(target)
        if not target.exists():
            return [Finding(str(target), "file", False, "no such file or folder")]
        target = target.resolve()
        folder = _package_folder(target)
        if folder is None and target.is_dir() and _packages_in(target):  # a folder of deliveries: each on its own
            return [finding for child in sorted(target.iterdir()) if not child.name.startswith(".")
                    for finding in self.verify(child)]
        present = _files(target)
        findings, listed = self._package(target, folder, present)
        findings += [f for path in present if (f := _type(path, _relative(path, folder) in listed))]
        return findings + self._media([path for path in present if path.suffix.lower() in MIME_TYPES])

    def _package(self, target: Path, folder: Path | None, present: list[Path]) -> tuple[list[Finding], dict[str, str]]:
        """The package's own findings and the files its manifest lists ({} where there is no readable manifest).
        A folder without a manifest fails: it cannot be told from a package whose manifest was removed."""
        if folder is None:
            missing = Finding(target.name, "manifest", False, f"no {MANIFEST} in this folder or above it: a package "
                                                               "cannot be checked without its signed manifest")
            return ([missing] if target.is_dir() else []), {}
        findings, listed = self._manifest(folder)
        if listed is None:
            return findings, {}
        return findings + _contents(target, folder, present, listed), listed

    def _manifest(self, folder: Path) -> tuple[list[Finding], dict[str, str] | None]:
        """The manifest's signature finding and the files it lists; None where it cannot be read."""
        try:
            body = (folder / MANIFEST).read_bytes()
            manifest = json.loads(body)
            listed, chain = manifest["files"], manifest["signing_certificate"]
            if not (isinstance(listed, dict) and isinstance(chain, str)):
                raise TypeError("'files' is not an object or 'signing_certificate' is not text")
        except (OSError, ValueError, KeyError, TypeError) as error:
            return [Finding(MANIFEST, "manifest", False, f"cannot be read ({type(error).__name__}: {error}): nothing in "
                                                         "the package can be checked against it")], None
        return [self._signature(folder, body, chain)], listed

    def _signature(self, folder: Path, body: bytes, chain: str) -> Finding:
        signature = folder / SIGNATURE
        if not signature.exists():
            return Finding(MANIFEST, "manifest", False, f"{SIGNATURE} is missing: the manifest cannot be trusted")
        try:
            problem = check_detached(body, signature.read_bytes(), chain.encode(), self.root_pem)
        except ValueError as error:
            problem = f"its signing certificate cannot be read ({error})"
        return Finding(MANIFEST, "manifest", problem is None, problem or "signed by the project certificate")

    def _media(self, paths: list[Path]) -> list[Finding]:
        """Each audio or video file's own findings; a file that cannot be read is one finding."""
        readings = {path: self._read(path) for path in paths}
        readable = {path: reading for path, reading in readings.items() if isinstance(reading, _Reading)}
        marks = self._watermarks({path: reading.credential for path, reading in readable.items()})
        findings = []
        for path, reading in readings.items():
            findings += self._file(path, reading, marks[path]) if isinstance(reading, _Reading) else [reading]
        return findings

    def _read(self, path: Path) -> _Reading | Finding:
        try:
            return _Reading(read_provenance(path, self.root_pem), self._tags(path))
        except UNREADABLE as error:
            reason = error.reason if isinstance(error, BadInputError) else error
            return Finding(path.name, "read", False, f"cannot be read, so nothing in it can be checked: {reason}")

    def _file(self, path: Path, reading: _Reading, watermark: Finding) -> list[Finding]:
        name, credential = path.name, reading.credential
        return [_name(name), reading.tags, _c2pa(name, reading.report), *_line(name, credential), watermark,
                *self._consents(name, credential), *([self._clearance(name, credential)] if credential else [])]

    def _tags(self, path: Path) -> Finding:
        if path.suffix.lower() == ".wav":
            labels = read_labels(path)
            places = {"LIST-INFO": AI_LABEL in f"{labels['title']} {labels['description']}",
                      "bext": AI_LABEL in (bext_description(path) or ""),
                      "iXML": AI_LABEL in (read_wav_chunk(path, b"iXML") or b"").decode("utf-8", "replace")}
        else:
            places = {"stream title": AI_LABEL in _stream_titles(path)}
        missing = [where for where, present in places.items() if not present]
        return Finding(path.name, "tags", not missing, f"label missing from {', '.join(missing)}" if missing
                       else f"'{AI_LABEL}' in {', '.join(places)}")

    def _watermarks(self, credentials: dict[Path, dict]) -> dict[Path, Finding]:
        """Each file's watermark finding, the detector run once over every file that should carry the mark
        (its credential says so) or might (its credential is gone)."""
        def finding(path: Path, ok: bool | None, message: str) -> Finding:
            return Finding(path.name, "watermark", ok, message)

        if self.watermarker is None:
            return {path: finding(path, None, "not checked: the watermark detector is not installed") for path in credentials}
        found, to_detect = {}, []
        for path, credential in credentials.items():
            if not credential or credential.get("watermarked"):
                to_detect.append(path)
            elif credential.get("lines"):
                found[path] = finding(path, None, "not checked: delivered without a watermark")
            else:
                found[path] = finding(path, None, "not checked: holds no generated speech")
        try:
            scores = dict(zip(to_detect, self.watermarker.detect_many(to_detect), strict=True))
        except DubdeskError as error:
            return found | {path: finding(path, None, f"not checked: {error}") for path in to_detect}
        for path, score in scores.items():
            if score is None:
                found[path] = finding(path, None, f"not checked: under {MIN_DETECT_S} s, too short for the detector to judge")
            elif score >= self.watermarker.threshold:
                found[path] = finding(path, True, f"watermark present (score {score:.2f})")
            elif credentials[path]:
                found[path] = finding(path, False, f"watermark missing (score {score:.2f})")
            else:  # no credential left to say whether it should carry one; the C2PA finding names that
                found[path] = finding(path, None, f"no watermark found (score {score:.2f})")
        return found

    def _consents(self, name: str, credential: dict) -> list[Finding]:
        lines = credential.get("lines", [])
        findings = []
        for record_hash in sorted({line["consent_record"] for line in lines}):
            used = [line for line in lines if line["consent_record"] == record_hash]
            findings.append(Finding(name, "consent", *self._consent(used[0]["voice_profile"], record_hash, used,
                                                                     credential.get("language", ""), credential.get("project", ""))))
        return findings

    def _consent(self, profile: str, record_hash: str, lines: list[dict], language: str, title: str) -> tuple[bool, str]:
        try:
            history = self.registry.history(profile)
        except ConsentError as error:  # a revocation is hidden by damaging the history or removing the profile
            return False, (f"voice '{profile}': consent not checked, so not trusted: {error}. Restore the consent "
                           "registry (voices folder and database) from a backup")
        record = next((r for r in history if r.hash == record_hash), None)
        if record is None:
            return False, f"voice '{profile}': the consent record {record_hash[:12]} is not in this registry's history"
        current = history[-1]
        if current.revoked:
            return False, (f"voice '{profile}': consent revoked on {current.revoked_at:%Y-%m-%d} "
                           f"({current.revocation_reason}); {len(lines)} line(s) here were made under it")
        lapsed = [_refusal(record, language, title, line) for line in lines]
        lapsed = [reason for reason in lapsed if reason]
        if lapsed:
            return False, f"voice '{profile}': {lapsed[0]}"
        return True, f"voice '{profile}': consent {record_hash[:12]} covered every line when generated, not revoked"


    def _clearance(self, name: str, credential: dict) -> Finding:
        """The rights holder's clearance this file was delivered under, as it stands in this workbench now."""
        disclosure = credential.get("disclosure")
        if not disclosure:
            return Finding(name, "clearance", False, "no title clearance in its credential: delivered without the "
                                                     "rights holder's recorded approval")
        if self.clearances is None:
            return Finding(name, "clearance", None, "not checked: no clearance registry at hand")
        return Finding(name, "clearance", *self._cleared(disclosure))

    def _cleared(self, disclosure: dict) -> tuple[bool, str]:
        clearance_id = disclosure["clearance_id"]
        try:
            history = self.clearances.history(clearance_id)
        except RightsError as error:  # a revocation is hidden by damaging the history or forging a record
            return False, f"title clearance not checked, so not trusted: {error}"
        record = next((r for r in history if r.hash == disclosure["clearance_record"]), None)
        if record is None:
            return False, (f"title clearance '{clearance_id}': the record {disclosure['clearance_record'][:12]} is not "
                           "in this workbench's history: forged or edited")
        if history[-1].revoked:
            return False, (f"title clearance '{clearance_id}' revoked on {history[-1].revoked_at:%Y-%m-%d} "
                           f"({history[-1].revocation_reason})")
        gap = record.terms.refusal(disclosure["language"], tuple(disclosure["territories"]), tuple(disclosure["uses"]),
                                   date.fromisoformat(disclosure["delivered_on"]))
        if gap:
            return False, f"title clearance '{clearance_id}' did not cover {gap}"
        return True, (f"cleared by {record.terms.holder} ({clearance_id}) for {', '.join(disclosure['uses'])} in "
                      f"{disclosure['language']}, {', '.join(disclosure['territories'])}; not revoked")


def _files(target: Path) -> list[Path]:
    """The files to verify: the target, or every file under it but the package manifest and its signature."""
    files = sorted(p for p in target.rglob("*") if p.is_file()) if target.is_dir() else [target]
    return [path for path in files if path.name not in (MANIFEST, SIGNATURE)]


def _package_folder(target: Path) -> Path | None:
    """The package folder: the one holding manifest.json, at or above the target."""
    for folder in [target if target.is_dir() else target.parent, *target.parents][:3]:
        if (folder / MANIFEST).exists():
            return folder
    return None


def _relative(path: Path, folder: Path | None) -> str:
    """The file's key in the package manifest."""
    return path.relative_to(folder).as_posix() if folder is not None and path.is_relative_to(folder) else path.name


def _contents(target: Path, folder: Path, present: list[Path], listed: dict[str, str]) -> list[Finding]:
    """Every file the manifest lists (at or under the target) present with its SHA-256, and every file present listed."""
    findings = [_hash(path, _relative(path, folder), listed) for path in present]
    missing = [relative for relative in listed
               if (folder / relative).is_relative_to(target) and not (folder / relative).exists()]
    return findings + [Finding(relative, "file", False, "listed in the package manifest but missing: deleted, renamed "
                                                        "or replaced after delivery") for relative in missing]


def _packages_in(folder: Path) -> list[Path]:
    """The delivery packages directly inside `folder` (as `dubdesk deliver --out` leaves them)."""
    return [child for child in folder.iterdir() if child.is_dir() and (child / MANIFEST).exists()]


def _hash(path: Path, relative: str, listed: dict[str, str]) -> Finding:
    """The file's SHA-256 against the one the package manifest lists for it."""
    if relative not in listed:
        return Finding(relative, "listed", False, "not listed in the package manifest: added after delivery")
    same = sha256_file(path) == listed[relative]
    return Finding(relative, "hash", same, "SHA-256 matches the manifest" if same else
                   "SHA-256 differs from the manifest: the file was changed after delivery")


def _type(path: Path, listed: bool) -> Finding | None:
    """A file verify reads no label or credentials from. A package's script and timeline files need only the
    hash its manifest lists; anything else is reported: not checked where the signed manifest lists it (a
    video in a container C2PA cannot sign), a failure where nothing vouches for it."""
    suffix = path.suffix.lower()
    if suffix in MIME_TYPES or (listed and suffix in DOCUMENT_SUFFIXES):
        return None
    if listed:
        return Finding(path.name, "type", None, f"not checked: labels and credentials are read from "
                                                f"{', '.join(MIME_TYPES)} files only; its hash is checked")
    if suffix in DOCUMENT_SUFFIXES:
        return Finding(path.name, "type", False, f"a {suffix} file carries no label or credentials: it can be "
                                                 "verified only against the signed manifest of its package")
    return Finding(path.name, "type", False, f"unknown file type '{suffix or path.name}': no package holds one "
                                             f"(a package holds {PACKAGE_TYPES}) and nothing in it can be verified")


def _name(name: str) -> Finding:
    labelled = f"[{AI_LABEL}]" in name
    return Finding(name, "name", labelled, f"'[{AI_LABEL}]' {'in' if labelled else 'missing from'} the file name")


def _c2pa(name: str, report: ProvenanceReport) -> Finding:
    if not report.has_manifest:
        return Finding(name, "c2pa", False, "no C2PA manifest: stripped (e.g. by a remux or re-encode) or never signed")
    if not report.trusted:
        return Finding(name, "c2pa", False, f"C2PA manifest {report.state}: {', '.join(report.failures) or 'untrusted signer'}")
    return Finding(name, "c2pa", True, f"C2PA manifest trusted, signed by {report.signer}")


def _line(name: str, credential: dict) -> list[Finding]:
    """A line clip's name starts with its line id; the credential must be signed for that line alone, so a clip
    renamed to another line is caught even when it travels without its package."""
    named = name.split(" ", 1)[0]
    if not LINE_ID.fullmatch(named) or not credential:
        return []
    signed = sorted(line["line"] for line in credential.get("lines", []))
    if signed == [named]:
        return [Finding(name, "line", True, f"signed for line {named}, as its name says")]
    return [Finding(name, "line", False, f"named as line {named} but signed for {', '.join(signed) or 'no line'}: "
                                         "renamed after delivery")]


def _refusal(record: ProfileRecord, language: str, title: str, line: dict) -> str | None:
    day = datetime.fromisoformat(line["generated_at"]).date() if line.get("generated_at") else date.today()
    return record.terms.refusal(language, title, line.get("use", "dubbing"), day)


def _stream_titles(path: Path) -> str:
    return run(["ffprobe", "-v", "error", "-show_entries", "stream_tags=title,handler_name", "-of", "json",
                media_argument(path)], check=False).stdout
