"""Request-scoped dependencies: settings, a unit-of-work session, the event publisher."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.settings import Settings


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def read_session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.settings.resolved_database_url) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ReadSession = Annotated[Session, Depends(read_session)]
