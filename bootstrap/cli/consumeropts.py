"""The --for option (repeatable): which consumers use the trust (config key `consumers`, config/consumers.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from bootstrap.config.schema import help_of

ForOpt = Annotated[list[str] | None, typer.Option("--for", help=help_of("consumers"), metavar="CONSUMER")]
