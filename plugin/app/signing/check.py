"""Is this handover certificate (交接书) signed by everyone who must sign it, and unchanged?

Checked with pyHanko on the PDF itself, whatever tool signed it (LibreSign, a desktop
signer): every required role has a signature that is intact (the signed bytes hash to the
signed digest), valid (the cryptography holds), covers the whole document (nothing but form
filling or validation data was added after it, and the last one covers the entire file) and
is trusted (chains to the configured root). Chinese SM2/SM3 signatures cannot be validated
by pyHanko's stack; they are reported as "cannot verify here", never as a pass.

Two more rules make a signature bind exactly what was signed:

- the certificate names the SHA-256 of the draft bundle it certifies (in its first
  revision, which every signature covers); a signed copy is accepted for a draft only when
  that digest is the draft's, compared byte for byte — an old signed copy never passes for
  a re-run's new draft;
- without a configured trust root, valid signatures prove only that *someone* signed: the
  result is "签名有效但签署人身份未核验" (:attr:`CertificateCheck.valid` but not
  :attr:`~CertificateCheck.ok`), and archival waits for an archivist's confirmation.

(``plugin/signatures.py`` — bundle-level signature verification — is another module's job;
this module answers only the question the automatic archival needs.)
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..config import SignerRole

log = logging.getLogger("handover_dossier.app.signing.check")

#: OIDs under 1.2.156.10197 are the Chinese national algorithms (SM2/SM3/SM4).
_GM_PREFIX = "1.2.156.10197"
#: How the certificate names its draft (certificate.render_certificate writes it).
_DRAFT_DIGEST = re.compile(r"(?:^|\s)sha256:([0-9a-f]{64})(?:\s|$)")
UNVERIFIED = "签名有效但签署人身份未核验"


@dataclass
class SignatureInfo:
    field: str
    signer: str = ""
    signer_fingerprint: str = ""
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    coverage: str = ""
    modification: str = ""
    signed_at: str = ""
    ok: bool = False
    problem: str = ""


@dataclass
class CertificateCheck:
    #: May be archived without anyone's confirmation: ``valid`` and the signers' identity
    #: verified (every required signature chains to the configured root).
    ok: bool
    signatures: list[SignatureInfo] = field(default_factory=list)
    missing_roles: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    sha256: str = ""
    #: Every required role signed, intact, valid, covering the document, for this draft.
    valid: bool = False
    #: The signers' certificates chain to the configured trust root.
    identity_verified: bool = False
    #: The draft digest the certificate names (from its first revision).
    draft_sha256: str = ""

    @property
    def unsigned(self) -> bool:
        return not self.signatures

    @property
    def needs_confirmation(self) -> bool:
        """Signed validly, but who signed is not verified: an archivist must confirm."""
        return self.valid and not self.identity_verified

    @property
    def reason(self) -> str:
        return "；".join(self.reasons) or (UNVERIFIED if self.needs_confirmation else "")

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "valid": self.valid, "identity_verified": self.identity_verified,
                "draft_sha256": self.draft_sha256, "sha256": self.sha256, "missing_roles": self.missing_roles,
                "reasons": self.reasons, "signatures": [asdict(s) for s in self.signatures]}


@contextmanager
def _quiet_path_building(quiet: bool) -> Iterator[None]:
    """Without a configured root, trust is not asked for; pyHanko still tries to build a
    chain and logs a traceback per signature. Keep the service log readable."""
    if not quiet:
        yield
        return
    logger = logging.getLogger("pyhanko.sign.validation")
    old = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(old)


def load_trust_root(path: Path | None):
    if path is None:
        return None
    from pyhanko.keys import load_cert_from_pemder

    return load_cert_from_pemder(str(path))


def _common_name(cert: Any) -> str:
    try:
        return str(cert.subject.native.get("common_name") or cert.subject.human_friendly)
    except Exception:  # pragma: no cover - malformed subject
        return ""


def _uses_gm_algorithms(sig: Any) -> bool:
    try:
        sd = sig.signed_data
        oids = [a["algorithm"].dotted for a in sd["digest_algorithms"]]
        oids += [si["signature_algorithm"]["algorithm"].dotted for si in sd["signer_infos"]]
        return any(o.startswith(_GM_PREFIX) for o in oids)
    except Exception:
        return False


def certified_draft(reader: Any) -> str:
    """The draft SHA-256 named in the certificate's first revision ('' when none): the
    revision we wrote, which every signature covers (a later revision could say anything)."""
    try:
        info = reader.get_historical_resolver(0).trailer_view["/Info"]
        keywords = str(info.get("/Keywords", ""))
    except Exception:
        return ""
    m = _DRAFT_DIGEST.search(keywords)
    return m.group(1) if m else ""


def check_certificate(
    pdf: str | Path,
    roles: tuple[SignerRole, ...],
    *,
    trust_root: Path | None = None,
    match: str = "field",
    draft_sha256: str | None = None,
) -> CertificateCheck:
    """Validate every signature in ``pdf`` and decide whether the certificate may be archived.

    ``draft_sha256``: the draft it must certify (the digest the certificate names must be
    exactly this one); None only when no draft is at stake (tests of the signatures alone).
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    data = Path(pdf).read_bytes()
    result = CertificateCheck(ok=False, sha256=hashlib.sha256(data).hexdigest())
    try:
        root = load_trust_root(trust_root)
    except Exception:
        result.reasons.append("配置的根证书无法读取，无法判断签名是否可信")
        return result
    try:
        import io

        reader = PdfFileReader(io.BytesIO(data), strict=False)
        sigs = list(reader.embedded_signatures)
    except Exception as exc:
        result.reasons.append(f"无法读取交接书 PDF（{type(exc).__name__}）")
        return result
    if not sigs:
        result.reasons.append("交接书尚未签署（没有数字签名）")
        result.missing_roles = [r.label for r in roles]
        return result
    result.draft_sha256 = certified_draft(reader)
    if draft_sha256 is not None:
        if not result.draft_sha256:
            result.reasons.append("交接书中没有所附档案包草稿的 SHA-256，无法确认签署的是哪一版草稿")
        elif not hmac.compare_digest(result.draft_sha256.encode("ascii"), draft_sha256.lower().encode("ascii")):
            result.reasons.append(f"签署的交接书对应另一版档案包草稿（SHA-256 {result.draft_sha256[:16]}…），"
                                  f"与当前草稿（{draft_sha256[:16]}…）不符，不能用于本草稿")

    # Signers' certificates need either non-repudiation or digitalSignature: LibreSign's and
    # typical personal signing certificates carry one or the other.
    usage = KeyUsageConstraints(key_usage={"non_repudiation", "digital_signature"}, match_all_key_usages=False)
    allowed = {ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING}
    for n, sig in enumerate(sigs, start=1):
        info = SignatureInfo(field=sig.field_name or f"#{n}")
        label = f"签名“{info.field}”"
        try:
            cert = sig.signer_cert
            info.signer = _common_name(cert)
            info.signer_fingerprint = cert.sha256.hex()
            label = f"签名“{info.field}”（签署人 {info.signer}）"
        except Exception:
            pass
        if _uses_gm_algorithms(sig):
            info.problem = f"{label}使用国密算法（SM2/SM3），本系统无法验证，需人工核验"
            result.signatures.append(info)
            continue
        try:
            vc = ValidationContext(trust_roots=[root] if root is not None else [], allow_fetching=False)
            with _quiet_path_building(root is None):
                st = validate_pdf_signature(sig, vc, key_usage_settings=usage)
        except Exception as exc:
            info.problem = f"{label}无法验证（{type(exc).__name__}）"
            result.signatures.append(info)
            continue
        info.intact, info.valid, info.trusted = bool(st.intact), bool(st.valid), bool(st.trusted)
        info.coverage = st.coverage.name if st.coverage is not None else ""
        info.modification = st.modification_level.name if st.modification_level is not None else ""
        if st.signer_reported_dt is not None:
            info.signed_at = st.signer_reported_dt.isoformat()
        last = n == len(sigs)
        covered = st.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
            not last and st.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        )
        if not info.intact:
            info.problem = f"{label}签署后内容被改动（完整性校验失败）"
        elif not info.valid:
            info.problem = f"{label}密码校验失败（签名无效）"
        elif not covered or st.modification_level not in allowed or st.docmdp_ok is False:
            info.problem = f"{label}未覆盖整个文档：签署后文档又被修改"
        elif root is not None and not info.trusted:
            info.problem = f"{label}的证书不受信任（未链接到配置的根证书）"
        info.ok = not info.problem
        result.signatures.append(info)

    result.reasons.extend(s.problem for s in result.signatures if s.problem)
    good = [s for s in result.signatures if s.ok]
    if match == "count":
        signers = {s.signer_fingerprint for s in good}
        if len(signers) < len(roles):
            result.missing_roles = [r.label for r in roles[len(signers):]]
    else:
        fields = {s.field for s in good}
        result.missing_roles = [r.label for r in roles if r.field_name not in fields]
    if result.missing_roles:
        result.reasons.append("缺少有效签名：" + "、".join(result.missing_roles))
    result.valid = not result.reasons
    result.identity_verified = result.valid and root is not None and all(s.trusted for s in good)
    result.ok = result.valid and result.identity_verified
    return result
