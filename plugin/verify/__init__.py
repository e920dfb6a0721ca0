"""Verify: the four-property check (四性检测, DA/T 70) of a bundle.

- :mod:`.checks` — :func:`verify_bundle` (authenticity, integrity, usability, security) and
  the 四性检测报告;
- :mod:`.content` — usability (each file opens with its format's reader) and active content;
- :mod:`.signatures` — pyHanko validation of signed PDFs;
- :mod:`.bagit_compat` — the bagit-python re-check with SM3 registered.

Imports the bundle stage (to recompute what it promised), the extract stage's format sniffing
and the leaf helpers.
"""

from __future__ import annotations

from .checks import BundleUnreadable, Check, VerifyReport, verify_bundle, write_report

__all__ = ["BundleUnreadable", "Check", "VerifyReport", "verify_bundle", "write_report"]
