"""C2PA content credentials for exported dubs: a project CA, signing in place, reading back.

Generated speech must say so in a way that survives being passed around and can be checked.
A signed C2PA manifest does that: it names the tool, declares the audio AI-generated
(IPTC trainedAlgorithmicMedia) and carries our own record of voices, consents, models and
approvers. Signing is offline (no timestamp authority). Anything that rewrites the file
(a remux, a tag edit) drops or breaks the manifest, so tag first and sign last.

A WAV is signed by data hash: c2pa-python's `Builder.sign` holds about twice the file in memory (2 GB for
an hour's mix), so the manifest is made for a hash computed here, streaming, and appended as the RIFF
chunk c2pa reads. c2pa-python 0.38 does not wrap the C library's data-hashed calls; they are called
through its own library handle (the version is pinned; the delivery tests read every signature back).
"""
from __future__ import annotations

import ctypes
import datetime as dt
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..errors import BadInputError
from ..files import atomic_write
from ..labels import riff_chunks
from ..stages import package_version

AI_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
ASSERTION_LABEL = "org.dubdesk.provenance"
MIME_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
}
# No network while reading: no remote manifests, no OCSP.
_OFFLINE = {"verify": {"verify_trust": True, "remote_manifest_fetch": False, "ocsp_fetch": False}}


@dataclass(frozen=True)
class SigningIdentity:
    """Where the signing material lives.

    `chain` is PEM, the signing (leaf) certificate first, then any intermediates. A real
    certificate from a CA can be used by building this directly; `root` is only needed for
    reading back as Trusted.
    """

    chain: Path
    key: Path
    root: Path | None = None


@dataclass(frozen=True)
class ProvenanceReport:
    """What a file's active manifest says and whether it checks out.

    `state` is c2pa's validation state: "Trusted" (signature good, chains to a given anchor),
    "Valid" (signature and hashes good, signer not trusted), "Invalid" (something failed).
    `failures` are the status codes that failed, e.g. "assertion.dataHash.mismatch".
    """

    has_manifest: bool
    state: str | None = None
    title: str | None = None
    generator: str | None = None
    signer: str | None = None
    assertions: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def trusted(self) -> bool:
        return self.state == "Trusted"


def make_project_ca(folder: Path, project_name: str) -> SigningIdentity:
    """Create (or reuse) a project root CA and a leaf signer under `folder`.

    The leaf is issued by a local root that readers are given as trust anchor. c2pa wants
    digitalSignature, an EKU it accepts (emailProtection) and an authority key identifier.
    With no timestamp authority a file goes Invalid (signingCredential.expired) once the
    leaf expires, hence ten years. The root key is not kept: to renew, make a new CA and
    read with both roots concatenated as the anchor.
    """
    identity = SigningIdentity(folder / "signer.pem", folder / "signer.key", folder / "root.pem")
    present = [p.exists() for p in (identity.chain, identity.key, identity.root)]
    if all(present):
        return identity
    if any(present):
        raise FileExistsError(f"{folder} holds part of a signing identity; refusing to overwrite it")

    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"{project_name} provenance root CA", project_name)
    root = (
        _cert_builder(root_name, root_name, root_key.public_key(), now, years=20)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        _cert_builder(_name(f"{project_name} dubdesk signer", project_name), root_name, leaf_key.public_key(), now, years=10)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )

    folder.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    _write_private(identity.key, leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    identity.chain.write_bytes(leaf.public_bytes(pem))  # the root is the anchor, not part of the chain
    identity.root.write_bytes(root.public_bytes(pem))
    return identity


def dubbing_manifest(title: str, provenance: dict[str, Any]) -> dict[str, Any]:
    """The manifest definition for a generated dub: tool, title, AI source type, our record.

    `provenance` is free JSON: voice profiles, consent-record hashes, models with their
    weights licences, approvers.
    """
    return {
        "claim_generator_info": [{"name": "dubdesk", "version": package_version("dubdesk")}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": AI_SOURCE_TYPE}]}},
            {"label": ASSERTION_LABEL, "data": provenance},
        ],
    }


def sign_in_place(path: Path, manifest: dict[str, Any], identity: SigningIdentity) -> None:
    """Embed `manifest`, signed by `identity`, into `path`.

    A WAV gets its signed chunk appended (see the module's note): sign it where a crash can throw it away
    (a delivery's staging folder). Any other file is replaced atomically, since a failed sign leaves a
    truncated destination.
    """
    mime = _mime(path)
    key = identity.key.read_bytes()
    info = c2pa.C2paSignerInfo(_alg(key), identity.chain.read_bytes(), key, None)
    if mime == "audio/wav":
        _sign_wav(path, manifest, info)
        return

    def sign(temporary: Path) -> None:
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder:
            with path.open("rb") as source, temporary.open("w+b") as dest:
                builder.sign(signer, mime, source, dest)

    atomic_write(path, sign)


def _sign_wav(path: Path, manifest: dict[str, Any], info: c2pa.C2paSignerInfo) -> None:
    """Append a `C2PA` chunk holding `manifest`, bound to every other byte of the file by a SHA-256 data hash.

    The placeholder manifest has the signed one's exact size, so the RIFF header can be set, and the file
    hashed, before anything is written.
    """
    if any(chunk_id == b"C2PA" for chunk_id, _, _ in riff_chunks(path)):
        raise ValueError(f"{path.name} already carries a C2PA manifest")
    start = path.stat().st_size
    with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder:
        placeholder = _c2pa_bytes(_LIB.c2pa_builder_data_hashed_placeholder, builder._handle,
                                  signer.reserve_size(), b"application/c2pa")
        pad = b"\0" * (len(placeholder) % 2)  # after the chunk, which is where c2pa's exclusion ends: hashed
        riff_size = (start + 8 + len(placeholder) + len(pad)) - 8  # the signed length less "RIFF" and this size
        data_hash = {"exclusions": [{"start": start, "length": 8 + len(placeholder)}], "name": "jumbf manifest",
                     "alg": "sha256", "hash": list(_wav_digest(path, riff_size, pad)), "pad": []}  # serde bytes: lists
        signed = _c2pa_bytes(_LIB.c2pa_builder_sign_data_hashed_embeddable, builder._handle, signer._handle,
                             json.dumps(data_hash).encode("ascii"), b"application/c2pa", None)
    if len(signed) != len(placeholder):
        raise c2pa.C2paError(f"the signed manifest ({len(signed)} bytes) differs from its placeholder ({len(placeholder)})")
    with path.open("r+b") as out:
        out.seek(start)
        out.write(b"C2PA" + struct.pack("<I", len(signed)) + signed + pad)
        out.seek(4)
        out.write(struct.pack("<I", riff_size))


def _wav_digest(path: Path, riff_size: int, tail: bytes) -> bytes:
    """SHA-256 of the WAV as it will read once the manifest chunk is appended, the chunk left out: the RIFF
    size differs from the file now, and `tail` (the chunk's pad byte) follows it."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        digest.update(source.read(4) + struct.pack("<I", riff_size))
        source.seek(8)
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    digest.update(tail)
    return digest.digest()


_LIB = c2pa.c2pa._lib
_BYTES_OUT = ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))
_LIB.c2pa_builder_data_hashed_placeholder.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, _BYTES_OUT]
_LIB.c2pa_builder_sign_data_hashed_embeddable.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p,
                                                           ctypes.c_char_p, ctypes.c_void_p, _BYTES_OUT]
for _call in (_LIB.c2pa_builder_data_hashed_placeholder, _LIB.c2pa_builder_sign_data_hashed_embeddable):
    _call.restype = ctypes.c_int64


def _c2pa_bytes(call, *arguments) -> bytes:
    """The bytes a C library call hands back through its last argument; its error as a C2paError."""
    out = ctypes.POINTER(ctypes.c_ubyte)()
    size = call(*arguments, ctypes.byref(out))
    if size < 0:
        raise c2pa.C2paError(c2pa.c2pa._read_native_error() or "the C2PA library failed without a message")
    try:
        return ctypes.string_at(out, size)
    finally:
        _LIB.c2pa_free(out)


def read_provenance(path: Path, trust_anchor_pem: bytes | None = None) -> ProvenanceReport:
    """Read and validate the active manifest; a file without one is a normal answer, not an error, and
    a file the reader cannot parse is a BadInputError.

    With `trust_anchor_pem` (e.g. the project root.pem) a file signed under it reads Trusted;
    without it, or under another CA, the best is Valid with `signingCredential.untrusted`.
    """
    settings: dict[str, Any] = dict(_OFFLINE)
    if trust_anchor_pem is not None:
        settings["trust"] = {"user_anchors": trust_anchor_pem.decode("ascii")}
    with c2pa.Context.from_dict(settings) as context, path.open("rb") as stream:
        try:
            reader = c2pa.Reader.try_create(_mime(path), stream, None, context)
        except c2pa.C2paError as error:  # e.g. a truncated file: "asset could not be parsed"
            raise BadInputError(path, f"the C2PA reader cannot parse it ({error}); it is truncated or damaged") from error
        if reader is None:
            return ProvenanceReport(has_manifest=False)
        with reader:
            store = json.loads(reader.json())
    manifest = store["manifests"][store["active_manifest"]]
    results = store.get("validation_results", {}).get("activeManifest", {})
    signature = manifest.get("signature_info", {})
    tool = (manifest.get("claim_generator_info") or [{}])[0]
    return ProvenanceReport(
        has_manifest=True,
        state=store.get("validation_state"),
        title=manifest.get("title"),
        generator=f"{tool.get('name')} {tool.get('version')}",
        signer=signature.get("common_name"),
        assertions={a["label"]: a.get("data") for a in manifest.get("assertions", [])},
        failures=[status["code"] for status in results.get("failure", [])],
    )


def sign_detached(data: bytes, identity: SigningIdentity) -> bytes:
    """A signature over `data` (the delivery manifest, which C2PA cannot hold) by the signing key."""
    key = serialization.load_pem_private_key(identity.key.read_bytes(), password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.MAX_LENGTH), hashes.SHA256())
    return key.sign(data)


def check_detached(data: bytes, signature: bytes, chain_pem: bytes, root_pem: bytes) -> str | None:
    """Why `signature` is not a signature over `data` by a certificate the root issued; None when it is."""
    leaf = x509.load_pem_x509_certificates(chain_pem)[0]
    roots = x509.load_pem_x509_certificates(root_pem)
    if not any(_issued_by(leaf, root) for root in roots):
        return "the manifest's signing certificate was not issued by the trusted root"
    public = leaf.public_key()
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, data, padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.MAX_LENGTH), hashes.SHA256())
        else:
            public.verify(signature, data)
    except InvalidSignature:
        return "the manifest was changed after it was signed"
    return None


def _issued_by(leaf: x509.Certificate, root: x509.Certificate) -> bool:
    try:
        leaf.verify_directly_issued_by(root)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def _mime(path: Path) -> str:
    try:
        return MIME_TYPES[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"cannot sign or read {path.suffix!r} files; supported: {', '.join(MIME_TYPES)}") from None


def _alg(private_key_pem: bytes) -> str:
    """The c2pa algorithm name for the key, so a user-supplied RSA or P-384 key works too."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}[key.curve.name]
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise ValueError(f"unsupported signing key type {type(key).__name__}")


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
    ])


def _cert_builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey,
                  now: dt.datetime, years: int) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(digital_signature: bool = False, key_cert_sign: bool = False, crl_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=key_cert_sign, crl_sign=crl_sign,
        encipher_only=False, decipher_only=False,
    )


def _write_private(path: Path, data: bytes) -> None:
    """Create the key file 0600 from the start, never readable by others even briefly."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
