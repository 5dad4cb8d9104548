"""The real PostgreSQL the SQL consumers use: ``DATABASE_URL`` (CI exports it,
scripts/services.sh postgres starts the server), else the local default; a test
needing it skips without it, and fails in CI."""
from __future__ import annotations

import os

import psycopg
import pytest

from conftest import service_unavailable
from consumers.postgres_dedup import DEFAULT_DATABASE_URL


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        service_unavailable(f"PostgreSQL at {url} does not answer ({exc}); "
                            "run scripts/services.sh postgres or set DATABASE_URL")
    return url
