"""The API token: with one configured, every control route wants
``Authorization: Bearer <token>``. ``/health``, ``/openapi.json`` and the effect
sink stay open (the sink is reached only through its run's unguessable path)."""
from __future__ import annotations

import hmac

from flask import Flask, request

from simulator.app.errors import ApiError

TOKEN_ENV = "GENESYS_SIM_API_TOKEN"
MIN_TOKEN_CHARS = 16
OPEN_ENDPOINTS = frozenset({"health.health", "openapi.openapi", "effects.post_effect"})
_REALM = 'Bearer realm="genesys-sim"'


def require_token(app: Flask, token: str) -> None:
    """Guard every route but OPEN_ENDPOINTS with ``token``. Requests that match no
    route are guarded too: an unauthenticated caller cannot map the API."""
    if not token:
        raise ValueError("the API token must not be empty")
    expected = token.encode("utf-8")

    @app.before_request
    def _check_token() -> None:
        if request.endpoint in OPEN_ENDPOINTS:
            return
        scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise ApiError(401, f"this route needs 'Authorization: Bearer <token>' with the server's "
                                f"{TOKEN_ENV}", "Authorization", headers={"WWW-Authenticate": _REALM})
        # Bytes on both sides (compare_digest refuses non-ASCII str): WSGI hands headers
        # over decoded as latin-1, so encoding them back gives the bytes that were sent.
        if not hmac.compare_digest(given.strip().encode("latin-1", "replace"), expected):
            raise ApiError(401, "the bearer token is not this server's API token", "Authorization",
                           headers={"WWW-Authenticate": f'{_REALM}, error="invalid_token"'})


def token_problem(token: str) -> str | None:
    """Why ``token`` is not fit to guard the API, or None."""
    if len(token) < MIN_TOKEN_CHARS:
        return (f"{TOKEN_ENV} is {len(token)} characters long; use at least {MIN_TOKEN_CHARS} "
                f"(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    if not all(0x21 <= ord(c) <= 0x7e for c in token):
        return f"{TOKEN_ENV} must be printable ASCII without spaces (it travels in an HTTP header)"
    return None
