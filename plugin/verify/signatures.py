"""Validate the signatures on a signed PDF (the signed handover certificate) with pyHanko.

For each signature: is it intact (the signed bytes hash to the signed digest), valid (the
signature verifies with the signer's certificate), trusted (the certificate chains to a
configured root), and what does it cover (the whole file, or the revision it signed with
only allowed changes after it)?

Chinese SM2 signatures (PKCS#7 with sm3WithSM2, or GB/T 38540 electronic seals) use
algorithms that pyHanko's stack (asn1crypto, cryptography) does not implement. They are
recognised and reported as "cannot verify here" - neither passed nor failed - so that an
archivist sends them to a national-crypto (国密) verifier instead of trusting a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: OIDs of the Chinese national algorithms (GM/T 0006): SM3, SM2 signing, sm3WithSM2.
SM_OIDS = {
    "1.2.156.10197.1.401": "SM3",
    "1.2.156.10197.1.301.1": "SM2",
    "1.2.156.10197.1.501": "SM2-with-SM3",
    "1.2.156.10197.1.301": "SM2",
}

PASS, FAIL, UNVERIFIABLE = "pass", "fail", "unverifiable"


@dataclass
class SignatureResult:
    """One signature in one PDF. ``status``: pass / fail / unverifiable."""

    field: str
    signer: str
    status: str
    intact: bool | None
    valid: bool | None
    trusted: bool | None
    coverage: str
    modification: str
    signed_at: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class SignatureError(ValueError):
    """The file could not be read as a PDF at all (message in Chinese)."""


def has_signatures(path: str | Path) -> bool:
    """Cheap pre-check: does the file contain a signature dictionary at all?"""
    with open(path, "rb") as f:
        data = f.read()
    return b"/ByteRange" in data and (b"/Sig" in data or b"/DocTimeStamp" in data)


def load_trust_roots(paths: Iterable[str | Path]) -> list[Any]:
    """Read root certificates (PEM or DER) for the trust check."""
    from asn1crypto import pem, x509

    roots = []
    for p in paths:
        data = Path(p).read_bytes()
        if pem.detect(data):
            for _, _, der in pem.unarmor(data, multiple=True):
                roots.append(x509.Certificate.load(der))
        else:
            roots.append(x509.Certificate.load(data))
    return roots


def _sm_algorithms(sig: Any) -> list[str]:
    """Names of national algorithms used by an embedded signature ([] when none)."""
    found: list[str] = []
    try:
        signed_data = sig.signed_data
        for alg in signed_data["digest_algorithms"]:
            oid = alg["algorithm"].dotted
            if oid in SM_OIDS:
                found.append(SM_OIDS[oid])
        for si in signed_data["signer_infos"]:
            for key in ("digest_algorithm", "signature_algorithm"):
                oid = si[key]["algorithm"].dotted
                if oid in SM_OIDS:
                    found.append(SM_OIDS[oid])
    except Exception:  # not CMS at all (e.g. a GB/T 38540 SES_Signature): handled by the caller
        return []
    return sorted(set(found))


def validate_pdf(path: str | Path, trust_roots: list[Any] | None = None) -> list[SignatureResult]:
    """Validate every signature in the PDF at ``path``.

    ``trust_roots``: certificates to trust. When none are given, trust is not asserted:
    an intact, valid signature is reported as passed for integrity, with a note that the
    signer's identity was not checked against a root.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        f = open(path, "rb")  # noqa: SIM115 - kept open while pyHanko reads lazily
    except OSError as exc:
        raise SignatureError(f"无法打开 PDF：{exc.strerror or exc}") from exc
    with f:
        try:
            reader = PdfFileReader(f, strict=False)
            embedded = list(reader.embedded_signatures)
        except Exception as exc:
            raise SignatureError(f"无法读取 PDF 签名：{exc}") from exc
        results = []
        for sig in embedded:
            results.append(_validate_one(sig, trust_roots, validate_pdf_signature, ValidationContext))
        return results


def _validate_one(sig: Any, trust_roots: list[Any] | None, validate, context_cls) -> SignatureResult:
    name = str(getattr(sig, "field_name", "") or "")
    subfilter = ""
    try:
        subfilter = str(sig.sig_object.get("/SubFilter", ""))
    except Exception:
        pass
    sm = _sm_algorithms(sig)
    signer = _signer_name(sig)
    if sm:
        return SignatureResult(name, signer, UNVERIFIABLE, None, None, None, "", "", "",
                               f"国密签名（{'、'.join(sm)}），本工具无法验证，请使用国密签名验证工具核验")
    if subfilter and subfilter not in ("/adbe.pkcs7.detached", "/ETSI.CAdES.detached", "/adbe.pkcs7.sha1",
                                       "/ETSI.RFC3161"):
        return SignatureResult(name, signer, UNVERIFIABLE, None, None, None, "", "", "",
                               f"签名格式 {subfilter} 不是 PKCS#7/CAdES（可能是 GB/T 38540 电子签章），本工具无法验证")
    vc = context_cls(trust_roots=list(trust_roots or []), allow_fetching=False)
    try:
        st = validate(sig, vc)
    except Exception as exc:
        text = str(exc)
        if "1.2.156.10197" in text:
            return SignatureResult(name, signer, UNVERIFIABLE, None, None, None, "", "", "",
                                   "国密签名（SM2/SM3），本工具无法验证，请使用国密签名验证工具核验")
        return SignatureResult(name, signer, FAIL, None, False, None, "", "", "", f"签名无法验证：{text[:160]}")
    coverage = getattr(st.coverage, "name", str(st.coverage or ""))
    modification = getattr(st.modification_level, "name", str(st.modification_level or ""))
    signed_at = st.signer_reported_dt.isoformat() if st.signer_reported_dt else ""
    covers_all = coverage == "ENTIRE_FILE" or (
        coverage == "ENTIRE_REVISION" and modification in ("NONE", "LTA_UPDATES", "FORM_FILLING")
    )
    problems = []
    if not st.intact:
        problems.append("签名后文件内容被改动（摘要不符）")
    if not st.valid:
        problems.append("签名值与签署证书不符")
    if st.intact and st.valid and not covers_all:
        problems.append(f"签名未覆盖整个文件（{_COVERAGE.get(coverage, coverage)}，其后的修改：{_MODIFICATION.get(modification, modification)}）")
    if trust_roots and not st.trusted:
        problems.append("签署证书不能追溯到指定的信任根")
    if problems:
        return SignatureResult(name, signer, FAIL, st.intact, st.valid, st.trusted, coverage, modification, signed_at,
                               "；".join(problems))
    note = "签名完整有效，覆盖整个文件"
    if trust_roots:
        note += "，签署证书可追溯到信任根"
    else:
        note += "；未指定信任根证书，签署人身份未作核验"
    return SignatureResult(name, signer, PASS, st.intact, st.valid, st.trusted if trust_roots else None, coverage,
                           modification, signed_at, note)


_COVERAGE = {
    "ENTIRE_FILE": "覆盖整个文件",
    "ENTIRE_REVISION": "仅覆盖签署时的版本",
    "CONTIGUOUS_BLOCK_FROM_START": "仅覆盖文件开头部分",
    "UNCLEAR": "覆盖范围不明",
}
_MODIFICATION = {
    "NONE": "无",
    "LTA_UPDATES": "长期验证信息",
    "FORM_FILLING": "填写表单或追加签名",
    "ANNOTATIONS": "添加批注",
    "OTHER": "其他修改",
}


def _signer_name(sig: Any) -> str:
    try:
        cert = sig.signer_cert
        return str(cert.subject.human_friendly)
    except Exception:
        return ""
