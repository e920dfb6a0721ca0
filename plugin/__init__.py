"""handover-dossier: assemble a departing leader's records into a handover archive bundle.

The flow runs in one direction, one module per stage::

    fetch (connectors) -> extract -> classify -> assemble -> file

The public surface is small on purpose: :func:`assemble` builds a bundle from a source,
:func:`verify` checks one. Everything else is an implementation detail of a stage.
"""

from __future__ import annotations

__version__ = "0.1.0"

#: Version of the bundle layout written into ``index.json`` and ``bag-info.txt``.
BUNDLE_FORMAT = "2"

__all__ = ["BUNDLE_FORMAT", "__version__", "assemble", "verify"]


def assemble(*args, **kwargs):
    from .pipeline import assemble as _assemble

    return _assemble(*args, **kwargs)


def verify(*args, **kwargs):
    from .verify import verify_bundle

    return verify_bundle(*args, **kwargs)
