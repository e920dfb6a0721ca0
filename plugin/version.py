"""The program's version: a leaf every layer may import (and ``setup.cfg`` reads statically)."""

__version__ = "0.1.0"
