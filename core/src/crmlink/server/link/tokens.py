"""Link tokens: short-lived, signed bearer tokens that let an end user touch one connection.

Format (compact, URL-safe, no padding)::

    cl1.<base64url(JSON claims)>.<base64url(HMAC-SHA256(key, "cl1." + claims part))>

Claims: ``app`` (app id), ``conn`` (connection id), ``kid`` (the API key that issued it),
``iat`` / ``exp`` (Unix seconds), ``jti`` (a random id, for logs and uniqueness) and ``scope``
(``["mapping"]``, plus ``"definition"`` when the app allows the page to replace the definition).

The signature only proves the token was issued by this server and not altered; whether it is still
*alive* (not expired, its issuing API key not revoked) is checked on every request by the router.
Tokens are never logged; only ``jti`` may be.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "PREFIX",
    "SCOPES",
    "LinkClaims",
    "TokenError",
    "TokenExpired",
    "decode_token",
    "issue_token",
]

PREFIX = "cl1"
SCOPES = frozenset({"mapping", "definition"})
_CLOCK_SKEW = 60  # seconds a token's iat may lie in the future (clocks of N servers)
_MAX_TOKEN = 8192


class TokenError(ValueError):
    """The token is malformed, forged or otherwise unusable."""


class TokenExpired(TokenError):
    """The token was valid but its ``exp`` has passed."""


@dataclass(frozen=True)
class LinkClaims:
    """What a link token grants: one app's one connection, until ``exp``."""

    app_id: str
    connection_id: str
    key_id: str
    issued_at: int
    expires_at: int
    token_id: str = field(default_factory=lambda: secrets.token_urlsafe(9))
    scope: tuple[str, ...] = ("mapping",)

    def allows(self, scope: str) -> bool:
        return scope in self.scope

    def as_json(self) -> dict[str, Any]:
        return {
            "app": self.app_id,
            "conn": self.connection_id,
            "kid": self.key_id,
            "iat": self.issued_at,
            "exp": self.expires_at,
            "jti": self.token_id,
            "scope": list(self.scope),
        }

    @classmethod
    def from_json(cls, raw: Any) -> LinkClaims:
        if not isinstance(raw, dict):
            raise TokenError("the token's claims are not an object")
        try:
            app_id, conn, kid = raw["app"], raw["conn"], raw["kid"]
            iat, exp, jti, scope = raw["iat"], raw["exp"], raw["jti"], raw["scope"]
        except KeyError as exc:
            raise TokenError(f"the token lacks the claim {exc.args[0]!r}") from None
        if not all(isinstance(v, str) and v for v in (app_id, conn, kid, jti)):
            raise TokenError("the token's claims are malformed")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (iat, exp)):
            raise TokenError("the token's times are malformed")
        if not isinstance(scope, list) or not all(isinstance(s, str) for s in scope):
            raise TokenError("the token's scope is malformed")
        return cls(app_id, conn, kid, iat, exp, jti, tuple(scope))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or any(c not in _B64_ALPHABET for c in text):
        raise TokenError("the token is not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("the token is not base64url") from None


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _sign(key: bytes, signed_part: str) -> bytes:
    return hmac.new(key, signed_part.encode("ascii"), hashlib.sha256).digest()


def issue_token(
    key: bytes,
    *,
    app_id: str,
    connection_id: str,
    key_id: str,
    ttl_seconds: int,
    scope: Iterable[str] = ("mapping",),
    now: float | None = None,
) -> tuple[str, LinkClaims]:
    """A new signed token and its claims."""
    if ttl_seconds <= 0:
        raise ValueError("a link token needs a positive lifetime")
    issued = int(now if now is not None else time.time())
    claims = LinkClaims(
        app_id=app_id,
        connection_id=connection_id,
        key_id=key_id,
        issued_at=issued,
        expires_at=issued + int(ttl_seconds),
        scope=tuple(sorted(set(scope))),
    )
    body = _b64(json.dumps(claims.as_json(), separators=(",", ":"), sort_keys=True).encode())
    signed_part = f"{PREFIX}.{body}"
    return f"{signed_part}.{_b64(_sign(key, signed_part))}", claims


def decode_token(key: bytes, token: str, *, now: float | None = None) -> LinkClaims:
    """The claims of a genuine, unexpired token; ``TokenError`` / ``TokenExpired`` otherwise."""
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN:
        raise TokenError("the link token is missing or too long")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise TokenError("the link token is malformed")
    signed_part = f"{parts[0]}.{parts[1]}"
    signature = _unb64(parts[2])
    if not hmac.compare_digest(signature, _sign(key, signed_part)):
        raise TokenError("the link token's signature does not match")
    try:
        raw = json.loads(_unb64(parts[1]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise TokenError("the link token's claims are not JSON") from None
    claims = LinkClaims.from_json(raw)
    current = now if now is not None else time.time()
    if claims.issued_at > current + _CLOCK_SKEW:
        raise TokenError("the link token was issued in the future")
    if current >= claims.expires_at:
        raise TokenExpired("the link token has expired: ask the app for a new one")
    return claims
