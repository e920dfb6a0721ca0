"""The 交接书 and its signature check: signed PDFs made here with pyHanko and a throwaway CA."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from handover_dossier.app.config import DEFAULT_ROLES, parse_roles
from handover_dossier.app.signing.certificate import CertificateInfo, render_certificate
from handover_dossier.app.signing.check import check_certificate
from handover_dossier.app.signing.demosign import make_ca, sign_field, sign_roles

ROLES = parse_roles(DEFAULT_ROLES)
ALL = {"sig_outgoing": "张三", "sig_incoming": "李四", "sig_supervisor": "王五"}


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory):
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    info = CertificateInfo(
        leader="张三", post="局长", unit="云溪县交通运输局", incoming="李四", term_start="2019-03-01",
        term_end="2024-06-30", archival_code="0000-LRJJ·2024-ABCDEF", draft_name="张三-档案包草稿.zip",
        draft_sha256="a" * 64, counts=[("C1", "工作计划", 3), ("C2", "工作总结", 2)], missing=["P1 离任审计"],
        exceptions=1, needs_review=0, marker="job-1",
    )
    return render_certificate(info, ROLES, tmp_path_factory.mktemp("cert") / "交接书.pdf")


def test_certificate_reserves_one_signature_field_per_role(certificate: Path) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import enumerate_sig_fields

    with open(certificate, "rb") as fh:
        names = [name for name, _value, _ref in enumerate_sig_fields(PdfFileReader(fh))]
    assert names == ["sig_outgoing", "sig_incoming", "sig_supervisor"]
    import pypdf

    text = pypdf.PdfReader(str(certificate)).pages[0].extract_text()
    assert "交接书" in text and "张三" in text and "监交人" in text


def test_unsigned_certificate_is_not_signed(certificate: Path) -> None:
    res = check_certificate(certificate, ROLES)
    assert not res.ok and res.unsigned
    assert "尚未签署" in res.reason


def test_fully_signed_is_accepted_and_trusted_with_the_root(certificate: Path, ca, tmp_path: Path) -> None:
    signed = sign_roles(certificate, tmp_path / "signed.pdf", ALL, ca)
    res = check_certificate(signed, ROLES, trust_root=ca.root_cert)
    assert res.ok, res.reason
    assert [s.field for s in res.signatures] == ["sig_outgoing", "sig_incoming", "sig_supervisor"]
    assert [s.signer for s in res.signatures] == ["张三", "李四", "王五"]
    assert all(s.intact and s.valid and s.trusted for s in res.signatures)
    assert res.signatures[-1].coverage == "ENTIRE_FILE"
    # Without a configured root the signatures are valid, but who signed is not verified:
    # "签名有效但签署人身份未核验", archived only after an archivist confirms (not ok by itself).
    res = check_certificate(signed, ROLES)
    assert res.valid and not res.identity_verified and not res.ok and res.needs_confirmation
    assert res.reason == "签名有效但签署人身份未核验"


def test_one_signature_missing_is_refused_with_the_role(certificate: Path, ca, tmp_path: Path) -> None:
    two = sign_roles(certificate, tmp_path / "two.pdf", {"sig_outgoing": "张三", "sig_incoming": "李四"}, ca)
    res = check_certificate(two, ROLES, trust_root=ca.root_cert)
    assert not res.ok
    assert res.missing_roles == ["监交人"]
    assert res.reason == "缺少有效签名：监交人"


def test_byte_changed_after_signing_is_refused(certificate: Path, ca, tmp_path: Path) -> None:
    signed = sign_roles(certificate, tmp_path / "signed.pdf", ALL, ca)
    data = bytearray(signed.read_bytes())
    pos = data.find(b"BT")  # inside the first page's text, covered by every signature
    data[pos + 4] ^= 0x01
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    res = check_certificate(tampered, ROLES, trust_root=ca.root_cert)
    assert not res.ok
    assert "签署后内容被改动" in res.reason
    assert not any(s.intact for s in res.signatures)


def test_content_added_after_the_last_signature_is_refused(certificate: Path, ca, tmp_path: Path) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.content import RawContent
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    signed = sign_roles(certificate, tmp_path / "signed.pdf", ALL, ca)
    w = IncrementalPdfFileWriter(io.BytesIO(signed.read_bytes()), strict=False)
    # An incremental update that paints over page 1: the signed bytes stay intact, but the
    # document no longer is what was signed.
    w.add_stream_to_page(0, generic.StreamObject(stream_data=RawContent(b"0 0 0 rg 60 600 400 80 re f").data))
    out = tmp_path / "overpainted.pdf"
    with open(out, "wb") as fh:
        w.write(fh)
    res = check_certificate(out, ROLES, trust_root=ca.root_cert)
    assert not res.ok
    assert "未覆盖整个文档" in res.reason
    assert all(s.intact for s in res.signatures)


def test_signed_by_another_ca_is_untrusted_when_a_root_is_configured(certificate: Path, ca, tmp_path: Path) -> None:
    other = make_ca(tmp_path / "other-ca", name="另一个根证书")
    signed = sign_roles(certificate, tmp_path / "signed.pdf", ALL, other)
    res = check_certificate(signed, ROLES, trust_root=ca.root_cert)
    assert not res.ok
    assert "不受信任" in res.reason
    assert check_certificate(signed, ROLES, trust_root=other.root_cert).ok


def test_count_mode_needs_distinct_signers(certificate: Path, ca, tmp_path: Path) -> None:
    same = sign_field(certificate, tmp_path / "a.pdf", "sig_outgoing", "张三", ca)
    same = sign_field(same, tmp_path / "b.pdf", "sig_incoming", "张三", ca)
    same = sign_field(same, tmp_path / "c.pdf", "sig_supervisor", "张三", ca)
    res = check_certificate(same, ROLES, match="count")
    assert not res.ok and not res.valid and len(res.missing_roles) == 2
    assert check_certificate(sign_roles(certificate, tmp_path / "d.pdf", ALL, ca), ROLES, match="count").valid


def test_not_a_pdf_gets_a_reason(tmp_path: Path) -> None:
    bad = tmp_path / "x.pdf"
    bad.write_bytes(b"not a pdf at all")
    res = check_certificate(bad, ROLES)
    assert not res.ok and "无法读取" in res.reason
