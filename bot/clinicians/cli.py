"""`guidebot clinicians`, `guidebot escalation` and `guidebot report`."""

from __future__ import annotations

import typer

clinicians_app = typer.Typer(help="Clinicians and admins.", no_args_is_help=True)
escalation_app = typer.Typer(help="Escalation rules.", no_args_is_help=True)
