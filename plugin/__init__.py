"""handover-dossier: assemble a departing leader's records into a handover archive bundle.

A document flows in one direction, one package per stage::

    connectors -> transfer -> extract -> classify -> bundle -> verify -> filing

(``docs/ARCHITECTURE.md`` draws the packages and the import rule at each boundary.)

The public surface is what an integrator uses, and nothing else:

- :func:`run` — ``run(source, out, meta=...)``: build a bundle from a folder or DMS URL
  (:func:`handover_dossier.pipeline.assemble`);
- :func:`verify_bundle` — the four-property check of a bundle (:mod:`handover_dossier.verify`);
- :class:`Inventory` — the inventory definition (:func:`load_inventory`, :func:`default_inventory`);
- ``connectors.open(location)`` — a :class:`~handover_dossier.connectors.Connector` for a
  folder or URL (also :func:`open_connector`).

Everything else is an implementation detail of a stage. Names are imported on first use, so
``import handover_dossier`` stays cheap.
"""

from __future__ import annotations

from typing import Any

from .version import __version__

__all__ = [
    "Inventory",
    "__version__",
    "default_inventory",
    "load_inventory",
    "open_connector",
    "run",
    "verify_bundle",
]

_LAZY = {
    "run": ("pipeline", "assemble"),
    "verify_bundle": ("verify", "verify_bundle"),
    "Inventory": ("inventory", "Inventory"),
    "default_inventory": ("inventory", "default_inventory"),
    "load_inventory": ("inventory", "load_inventory"),
    "open_connector": ("connectors", "open_connector"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
