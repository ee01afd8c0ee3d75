"""trust-bootstrap: AWS cross-account role access in one run, verified, kept correct."""

from __future__ import annotations

__version__ = "0.1.0"
