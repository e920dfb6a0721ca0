"""Signatures on a signed handover certificate, validated with pyHanko: made here with a
throwaway CA and real pyHanko signing; tampered, partially covered, untrusted and SM2
(national-crypto) signatures each get the right verdict, in ``verify`` too."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import algos, cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from handover_dossier.bundle.assemble import Item
from handover_dossier.cli import main
from handover_dossier.hashing import digest_file
from handover_dossier.samplecorpus.docgen import write_pdf
from handover_dossier.verify.checks import verify_bundle
from handover_dossier.verify.signatures import (
    FAIL,
    PASS,
    UNVERIFIABLE,
    has_signatures,
    load_trust_roots,
    validate_pdf,
)
from support.bundletools import build, make_items


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A throwaway root CA and one signer certificate per party."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("测试根证书")).issuer_name(_name("测试根证书"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - timedelta(days=1))
          .not_valid_after(now + timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    signers = {}
    for n, who in enumerate(("陈立华", "周明远"), 2):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(_name(who)).issuer_name(ca.subject)
                .public_key(key.public_key()).serial_number(n).not_valid_before(now - timedelta(days=1))
                .not_valid_after(now + timedelta(days=30))
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                             crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .sign(ca_key, hashes.SHA256()))
        signers[who] = (key, cert)
    folder = tmp_path_factory.mktemp("pki")
    ca_pem = folder / "ca.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return {"ca": ca, "ca_pem": ca_pem, "signers": signers}


def _sign(data: bytes, key, cert, ca, field: str) -> bytes:
    from asn1crypto import keys as akeys
    from asn1crypto import x509 as ax509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    signer = signers.SimpleSigner(
        signing_cert=ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=akeys.PrivateKeyInfo.load(key.private_bytes(serialization.Encoding.DER,
                                                                serialization.PrivateFormat.PKCS8,
                                                                serialization.NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs(
            [ax509.Certificate.load(ca.public_bytes(serialization.Encoding.DER))]),
    )
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    out = io.BytesIO()
    signers.sign_pdf(w, signers.PdfSignatureMetadata(field_name=field), signer=signer, output=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def signed(pki: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The handover certificate signed by the departing and then the incoming leader."""
    folder = tmp_path_factory.mktemp("signed")
    plain = folder / "交接书.pdf"
    write_pdf(plain, "云溪县交通运输局局长离任工作交接书", ["移交人：陈立华", "接交人：周明远", "监交人：县委组织部"])
    data = plain.read_bytes()
    for field, who in (("移交人签名", "陈立华"), ("接交人签名", "周明远")):
        key, cert = pki["signers"][who]
        data = _sign(data, key, cert, pki["ca"], field)
    out = folder / "交接书-已签.pdf"
    out.write_bytes(data)
    return out


def test_fully_signed_certificate(signed: Path, pki: dict) -> None:
    assert has_signatures(signed)
    untrusted = validate_pdf(signed)
    assert [r.status for r in untrusted] == [PASS, PASS]
    assert all(r.intact and r.valid and r.trusted is None for r in untrusted)
    assert "未指定信任根证书" in untrusted[0].message
    assert untrusted[-1].coverage == "ENTIRE_FILE"
    assert untrusted[0].coverage == "ENTIRE_REVISION" and untrusted[0].modification in ("FORM_FILLING", "NONE")
    trusted = validate_pdf(signed, load_trust_roots([pki["ca_pem"]]))
    assert [(r.status, r.trusted) for r in trusted] == [(PASS, True), (PASS, True)]
    assert "陈立华" in trusted[0].signer and "周明远" in trusted[1].signer


def test_tampered_after_signing(signed: Path, tmp_path: Path) -> None:
    data = bytearray(signed.read_bytes())
    pos = data.index(b"/Producer")  # inside the first signed revision
    data[pos + 1] = ord("p")
    bad = tmp_path / "tampered.pdf"
    bad.write_bytes(bytes(data))
    results = validate_pdf(bad)
    assert all(r.status == FAIL for r in results)
    assert results[0].intact is False and "改动" in results[0].message


def test_content_added_after_signing_is_not_covered(signed: Path, tmp_path: Path) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    w = IncrementalPdfFileWriter(io.BytesIO(signed.read_bytes()))
    w.add_stream_to_page(0, w.add_object(generic.StreamObject(stream_data=b"q 1 0 0 rg 50 50 200 30 re f Q")))
    out = io.BytesIO()
    w.write(out)
    later = tmp_path / "later.pdf"
    later.write_bytes(out.getvalue())
    results = validate_pdf(later)
    assert results and all(r.status == FAIL for r in results)
    assert all(r.intact and r.valid for r in results)  # the signed bytes themselves are untouched
    assert "未覆盖整个文件" in results[-1].message


def test_untrusted_root(signed: Path, tmp_path: Path) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    root = (x509.CertificateBuilder().subject_name(_name("别的根")).issuer_name(_name("别的根"))
            .public_key(other.public_key()).serial_number(9).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1)).add_extension(x509.BasicConstraints(ca=True, path_length=None),
                                                                    critical=True)
            .sign(other, hashes.SHA256()))
    pem = tmp_path / "other.pem"
    pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    results = validate_pdf(signed, load_trust_roots([pem]))
    assert all(r.status == FAIL and r.trusted is False for r in results)
    assert "信任根" in results[0].message


def test_sm2_signature_cannot_be_verified_here(signed: Path, tmp_path: Path) -> None:
    """The same CMS structure with the national algorithms (SM3 digest, sm3WithSM2
    signature), as Chinese e-seal software writes it: reported as unverifiable."""
    data = signed.read_bytes()
    m = list(re.finditer(rb"/Contents\s*<([0-9a-fA-F]+)>", data))[-1]
    hexstr = m.group(1)
    content = cms.ContentInfo.load(bytes.fromhex(hexstr.decode()))  # trailing zero padding is ignored
    sd = content["content"]
    sd["digest_algorithms"][0]["algorithm"] = algos.DigestAlgorithmId("1.2.156.10197.1.401")
    si = sd["signer_infos"][0]
    si["digest_algorithm"]["algorithm"] = algos.DigestAlgorithmId("1.2.156.10197.1.401")
    si["signature_algorithm"]["algorithm"] = algos.SignedDigestAlgorithmId("1.2.156.10197.1.501")
    new = content.dump(force=True).hex().encode()
    assert len(new) <= len(hexstr)
    forged = data[: m.start(1)] + new + b"0" * (len(hexstr) - len(new)) + data[m.end(1):]
    sm2 = tmp_path / "sm2.pdf"
    sm2.write_bytes(forged)
    results = validate_pdf(sm2)
    assert results[-1].status == UNVERIFIABLE
    assert "国密签名（SM2-with-SM3、SM3）" in results[-1].message
    assert results[-1].intact is None and results[-1].valid is None


def test_verify_checks_signed_certificate_in_a_bundle(signed: Path, pki: dict, tmp_path: Path, monkeypatch,
                                                       capsys) -> None:
    monkeypatch.setenv("DOSSIER_PDF", "0")
    items = make_items(tmp_path / "docs", duplicate=False)
    digests, size = digest_file(signed)
    items.append(Item(code="P2", category="交接书", title="云溪县交通运输局局长离任工作交接书", source="签署/交接书-已签.pdf",
                      size=size, digests=digests, local=signed, format="pdf", date="2023-12-29", year="2023"))
    out = build(tmp_path / "b.zip", tmp_path, items=items)
    report = verify_bundle(out, use_bagit=False)
    sigs = [c for c in report.checks if c.name == "signature"]
    assert len(sigs) == 2 and all(c.ok and c.property == "authenticity" for c in sigs)
    assert all(c.path.startswith("data/P2-交接书/") for c in sigs)
    assert report.ok

    assert main(["verify", str(out), "--fast", "--json", "--trust-root", str(pki["ca_pem"])]) == 0
    data = json.loads(capsys.readouterr().out)
    trusted = [c for c in data["checks"] if c["name"] == "signature"]
    assert all("可追溯到信任根" in c["message"] for c in trusted)
    assert main(["verify", str(out), "--fast", "--trust-root", str(tmp_path / "missing.pem")]) == 2
    capsys.readouterr()


def test_verify_fails_a_bundle_with_a_tampered_signed_certificate(signed: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DOSSIER_PDF", "0")
    data = bytearray(signed.read_bytes())
    pos = data.index(b"/Producer")
    data[pos + 1] = ord("p")
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(data))
    digests, size = digest_file(bad)
    items = make_items(tmp_path / "docs", duplicate=False)
    items.append(Item(code="P2", category="交接书", title="交接书", source="交接书.pdf", size=size, digests=digests,
                      local=bad, format="pdf", date="2023-12-29", year="2023"))
    report = verify_bundle(build(tmp_path / "b.zip", tmp_path, items=items), use_bagit=False)
    failed = [c for c in report.failures if c.name == "signature"]
    assert failed and all("改动" in c.message for c in failed)
    # the manifests are consistent: the bundle faithfully holds a certificate altered after signing
    assert {c.name for c in report.failures} == {"signature"}
