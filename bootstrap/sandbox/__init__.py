"""The bundled local two-account AWS sandbox (needs the ``sandbox`` extra: moto)."""

from __future__ import annotations

import os

# AWS managed policies (ReadOnlyAccess, ...) exist in moto only when this is set before its IAM
# backends are created, so it is set before any moto import below this package.
os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
