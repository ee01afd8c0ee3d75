"""The bundled local two-account AWS sandbox (needs the ``sandbox`` extra: moto)."""
