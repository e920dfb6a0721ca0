"""Demo signing with a throwaway certificate authority — for the local walkthrough and tests.

Real handover certificates are signed in the DMS (LibreSign) or with the signers' own
certificates. To show the "archive automatically once signed" flow without any of that, this
module makes a throwaway root CA plus one certificate per signer (ECDSA P-256, key usage
digitalSignature + nonRepudiation) and signs the certificate's reserved fields with pyHanko.
Never use these keys for anything real: they are written unprotected to the given folder.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class DemoCA:
    folder: Path

    @property
    def root_cert(self) -> Path:
        return self.folder / "demo-root.pem"

    @property
    def root_key(self) -> Path:
        return self.folder / "demo-root.key"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "演示用临时证书")])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def make_ca(folder: str | Path, name: str = "交接档案演示根证书") -> DemoCA:
    """Create (or reuse) a throwaway root CA in ``folder``."""
    ca = DemoCA(Path(folder))
    ca.folder.mkdir(parents=True, exist_ok=True)
    if ca.root_cert.exists() and ca.root_key.exists():
        return ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name)).issuer_name(_name(name))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    _write_key(key, ca.root_key)
    ca.root_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ca


def signer_cert(ca: DemoCA, signer: str) -> tuple[Path, Path]:
    """(cert, key) for ``signer`` issued by the demo CA (created on first use)."""
    safe = "".join(ch if ch.isalnum() else "_" for ch in signer)
    cert_path, key_path = ca.folder / f"signer-{safe}.pem", ca.folder / f"signer-{safe}.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    root_key = serialization.load_pem_private_key(ca.root_key.read_bytes(), None)
    root = x509.load_pem_x509_certificate(ca.root_cert.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(signer)).issuer_name(root.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=730))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(root_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    _write_key(key, key_path)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def sign_field(pdf_in: str | Path, pdf_out: str | Path, field: str, signer: str, ca: DemoCA) -> Path:
    """Sign the existing signature field ``field`` as ``signer`` (incremental update)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    cert_path, key_path = signer_cert(ca, signer)
    signer_obj = signers.SimpleSigner.load(str(key_path), str(cert_path), ca_chain_files=(str(ca.root_cert),))
    if signer_obj is None:  # pragma: no cover - files written just above
        raise RuntimeError("cannot load demo signer")
    data = Path(pdf_in).read_bytes()
    w = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    out = io.BytesIO()
    signers.sign_pdf(w, signers.PdfSignatureMetadata(field_name=field, reason="离任工作交接", name=signer),
                     signer=signer_obj, existing_fields_only=True, output=out)
    dest = Path(pdf_out)
    dest.write_bytes(out.getvalue())
    return dest


def sign_roles(pdf_in: str | Path, pdf_out: str | Path, signers_by_field: dict[str, str], ca: DemoCA) -> Path:
    """Sign several fields one after the other, as the parties would."""
    current = Path(pdf_in)
    for field, signer in signers_by_field.items():
        current = sign_field(current, pdf_out, field, signer, ca)
    return Path(pdf_out)
