"""Plain text (TXT/CSV) in any common Chinese encoding: UTF-8/16, GB18030/GBK, Big5."""

from __future__ import annotations

import codecs
from pathlib import Path

from .base import Extracted, ExtractionError, Limits

_BOMS = [(codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]
# Frequent Han characters; used to choose between GB18030 and Big5 decodings.
_COMMON = set(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所"
    "民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日"
    "那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想"
    "已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指"
    "几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权"
    "收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集"
    "温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支"
    "般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属"
    "圆包火住调满县局照参红细引听该铁价严龙飞预算财务债权务资产计划总结讲话经验目标责任审计移交接书册"
)


def _common_chars() -> frozenset[str]:
    from ..lang.textnorm import to_traditional

    global _COMMON_BOTH
    if _COMMON_BOTH is None:
        _COMMON_BOTH = frozenset(_COMMON) | frozenset(to_traditional("".join(sorted(_COMMON))))
    return _COMMON_BOTH


_COMMON_BOTH: frozenset[str] | None = None
#: Bytes looked at to choose the encoding (a few thousand characters decide it).
_SAMPLE_BYTES = 8192

#: Candidate legacy encodings: (codec used to decode, name reported). cp950 is the Big5
#: that Windows writes (Big5 plus Microsoft's extensions); GB18030 is a superset of GBK
#: and GB2312.
_LEGACY = (("gb18030", "gb18030"), ("cp950", "big5"))


def _score(text: str) -> float:
    """How much ``text`` looks like real Chinese: share of frequent characters among the
    Han characters, minus a heavy penalty per undecodable byte."""
    han = [c for c in text if "\u3400" <= c <= "\u9fff"]
    if not han:
        return -text.count("\ufffd") / max(len(text), 1) * 5
    common = _common_chars()
    hits = sum(1 for c in han if c in common)
    return hits / len(han) - text.count("\ufffd") / max(len(text), 1) * 5


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    if len(sample) < 8:
        return None
    even = sample[0::2].count(0) / (len(sample) / 2)
    odd = sample[1::2].count(0) / (len(sample) / 2)
    if odd > 0.2 and even < 0.05:
        return "utf-16-le"
    if even > 0.2 and odd < 0.05:
        return "utf-16-be"
    return None


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes of unknown encoding; returns (text, encoding).

    UTF-8 (strict) first, since it almost never decodes text written in another encoding;
    then GB18030 against Big5 by which decoding yields frequent Chinese characters
    (either script) with fewer undecodable bytes; charset-normalizer for the rest.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data.decode(enc, errors="replace"), enc
    utf16 = _utf16_without_bom(data)
    if utf16:
        return data.decode(utf16, errors="replace"), utf16
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8"), "utf-8"  # a character cut by our read window
    candidates = []
    sample = data[:_SAMPLE_BYTES]
    for codec, label in _LEGACY:
        text = sample.decode(codec, errors="replace")
        if text.endswith("\ufffd"):
            text = text[:-1]  # a double-byte character cut by the sample window
        candidates.append((_score(text), label, codec))
    candidates.sort(key=lambda c: c[0], reverse=True)
    if candidates[0][0] < 0.2:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is not None:
            return str(best), best.encoding
    text = data.decode(candidates[0][2], errors="replace")
    if text.endswith("\ufffd"):
        text = text[:-1]  # a double-byte character cut by the read window
    return text, candidates[0][1]


def read_text(path: Path, limits: Limits) -> Extracted:
    with open(path, "rb") as f:
        data = f.read(limits.max_chars * 4)
    if not data.strip():
        raise ExtractionError("文本文件只有空白内容", kind="empty")
    text, enc = decode_text(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        raise ExtractionError("文件含有二进制内容，不是文本文档", kind="unsupported")
    size = path.stat().st_size
    pages = max(1, size // 2100 + 1)  # ~700 Han characters per A4 page, 3 bytes each
    return Extracted(format="text", text=text[: limits.max_chars], pages=pages, encoding=enc)
