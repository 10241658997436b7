"""The database's schema against the models, as Alembic's autogenerate compares them."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata  # noqa: TID253 (the schema is what this compares)
from alembic.migration import MigrationContext  # noqa: TID253 (as above)
from sqlalchemy import Connection
from sqlmodel import SQLModel

from bot.storage.models import MIGRATION_ONLY_INDEXES


def _declared(name: str | None, type_: str, _parents: Any) -> bool:
    return not (type_ == "index" and name in MIGRATION_ONLY_INDEXES)


def schema_differences(connection: Connection, *, compare_type: bool = True) -> list[Any]:
    """What the migrations made that the models do not declare, or the other way round;
    the indexes named in MIGRATION_ONLY_INDEXES are left out."""
    context = MigrationContext.configure(connection, opts={"compare_type": compare_type, "include_name": _declared})
    return list(compare_metadata(context, SQLModel.metadata))
