"""Verify a delivered dub, a whole package or a single file received alone.

For each audio or video file: the "AI beta" label in its name and metadata, its C2PA manifest
(signed by a certificate the trusted root issued, hashes intact), the watermark where the
detector is installed and the file holds generated speech, and every consent its lines were
generated under: known here, covering the line on the day it was generated, and not revoked
since. Where the package's manifest is at hand, its signature and every file's SHA-256 are
checked too. The detector runs once for all the files (it takes seconds to start).
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from .errors import DubdeskError
from .export.credentials import ASSERTION_LABEL, MIME_TYPES, ProvenanceReport, check_detached, read_provenance
from .export.delivery import MANIFEST, SIGNATURE
from .ingest import media_argument, sha256_file
from .labels import AI_LABEL, bext_description, read_labels, read_wav_chunk
from .voices.records import ProfileRecord
from .voices.registry import ConsentError, ConsentRegistry
from .watermark import Watermarker


@dataclass(frozen=True)
class Finding:
    file: str
    check: str
    ok: bool | None  # None: not checked (the tool or the record is not at hand)
    message: str


class Verifier:
    def __init__(self, registry: ConsentRegistry, root_pem: bytes, watermarker: Watermarker | None) -> None:
        self.registry, self.root_pem, self.watermarker = registry, root_pem, watermarker

    def verify(self, target: Path) -> list[Finding]:
        target = Path(target)
        if not target.exists():
            return [Finding(str(target), "file", False, "no such file or folder")]
        files = sorted(p for p in target.rglob("*") if p.suffix.lower() in MIME_TYPES) if target.is_dir() else [target]
        package = self._package(target)
        listed = json.loads((package / MANIFEST).read_text("utf-8"))["files"] if package else {}
        findings = self._manifest(package) if package else []
        reports = {path: read_provenance(path, self.root_pem) for path in files}
        marks = self._watermarks({path: report.assertions.get(ASSERTION_LABEL) or {} for path, report in reports.items()})
        for path in files:
            findings += self._file(path, package, listed, reports[path], marks[path])
        return findings

    @staticmethod
    def _package(target: Path) -> Path | None:
        """The package folder: the one holding manifest.json, at or above the target."""
        for folder in [target if target.is_dir() else target.parent, *target.parents][:3]:
            if (folder / MANIFEST).exists():
                return folder
        return None

    def _manifest(self, package: Path) -> list[Finding]:
        body, signature = (package / MANIFEST).read_bytes(), package / SIGNATURE
        chain = json.loads(body).get("signing_certificate", "")
        if not signature.exists():
            return [Finding(MANIFEST, "manifest", False, f"{SIGNATURE} is missing: the manifest cannot be trusted")]
        problem = check_detached(body, signature.read_bytes(), chain.encode(), self.root_pem)
        return [Finding(MANIFEST, "manifest", problem is None, problem or "signed by the project certificate")]

    def _file(self, path: Path, package: Path | None, listed: dict[str, str], report: ProvenanceReport,
              watermark: Finding) -> list[Finding]:
        name, labelled = path.name, f"[{AI_LABEL}]" in path.name
        findings = [Finding(name, "name", labelled, f"'[{AI_LABEL}]' {'in' if labelled else 'missing from'} the file name"),
                    self._tags(path)]
        if not report.has_manifest:
            findings.append(Finding(name, "c2pa", False, "no C2PA manifest: stripped (e.g. by a remux or re-encode) "
                                                         "or never signed"))
        elif not report.trusted:
            failures = ", ".join(report.failures) or "untrusted signer"
            findings.append(Finding(name, "c2pa", False, f"C2PA manifest {report.state}: {failures}"))
        else:
            findings.append(Finding(name, "c2pa", True, f"C2PA manifest trusted, signed by {report.signer}"))
        credential = report.assertions.get(ASSERTION_LABEL) or {}
        if package is not None:
            findings.append(_hash(path, package, listed))
        findings.append(watermark)
        findings += self._consents(name, credential)
        return findings

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
            if score >= self.watermarker.threshold:
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

    def _consent(self, profile: str, record_hash: str, lines: list[dict], language: str, title: str) -> tuple[bool | None, str]:
        try:
            history = self.registry.history(profile)
        except ConsentError as error:
            return None, f"not checked: {error}"
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


def _refusal(record: ProfileRecord, language: str, title: str, line: dict) -> str | None:
    day = datetime.fromisoformat(line["generated_at"]).date() if line.get("generated_at") else date.today()
    return record.terms.refusal(language, title, line.get("use", "dubbing"), day)


def _hash(path: Path, package: Path, listed: dict[str, str]) -> Finding:
    """The file's SHA-256 against the one the package manifest lists for it."""
    relative = str(path.relative_to(package)) if path.is_relative_to(package) else path.name
    if relative not in listed:
        return Finding(path.name, "hash", False, "not listed in the package manifest")
    same = sha256_file(path) == listed[relative]
    return Finding(path.name, "hash", same, "SHA-256 matches the manifest" if same else
                   "SHA-256 differs from the manifest: the file was changed after delivery")


def _stream_titles(path: Path) -> str:
    done = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream_tags=title,handler_name", "-of", "json",
                           media_argument(path)], capture_output=True, text=True)
    return done.stdout
