"""``python -m bootstrap`` runs the trust-bootstrap command line."""

from __future__ import annotations

from bootstrap.launch import main

main()
