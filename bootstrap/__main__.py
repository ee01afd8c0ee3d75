"""``python -m bootstrap`` runs the trust-bootstrap command line."""

from __future__ import annotations

from bootstrap.cli import main

main()
