"""API keys: generation and hashing.

An API key is a pair ``(key_id, secret)`` sent as HTTP Basic credentials ``key_id:secret``.
The key id (``ck_…``) is public and names the key; the secret (``cs_…``) is shown once, when the
key is created, and only its hash is stored.

Why SHA-256 and not bcrypt/scrypt/argon2: slow password hashes exist to make guessing a
*low-entropy*, human-chosen password expensive after a database leak. These secrets are 32 bytes
from :func:`secrets.token_urlsafe` (256 bits of entropy): no dictionary applies and a brute-force
search is out of reach whatever the hash costs, so a fast cryptographic hash is exactly as safe
here, while a deliberately slow hash would add tens of milliseconds and a CPU-exhaustion lever to
*every* authenticated request. The hash is domain-separated and bound to the key id, so a hash
row moved to another key id does not verify. There is no server-side pepper on purpose: it
would add nothing against guessing (already infeasible) and would tie every API key to a piece
of server configuration whose loss or rotation would lock every client out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = [
    "KEY_ID_PREFIX",
    "SECRET_PREFIX",
    "generate_key_id",
    "generate_secret",
    "hash_secret",
    "unusable_hash",
    "verify_secret",
]

KEY_ID_PREFIX = "ck_"
SECRET_PREFIX = "cs_"  # noqa: S105 (a prefix, not a secret)
_SCHEME = "sha256"
_DOMAIN = b"crmlink-api-key-v1\x00"


def generate_key_id() -> str:
    """A new public key id: ``ck_`` and 24 hex digits (96 random bits)."""
    return KEY_ID_PREFIX + secrets.token_hex(12)


def generate_secret() -> str:
    """A new secret: ``cs_`` and 32 random bytes, URL-safe base64 (43 characters)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _digest(key_id: str, secret: str) -> bytes:
    h = hashlib.sha256(_DOMAIN)
    h.update(key_id.encode("utf-8", "surrogatepass"))
    h.update(b"\x00")
    h.update(secret.encode("utf-8", "surrogatepass"))
    return h.digest()


def hash_secret(key_id: str, secret: str) -> str:
    """The stored form of a secret: ``sha256$<hex>`` of the secret, bound to its key id."""
    return f"{_SCHEME}${_digest(key_id, secret).hex()}"


def unusable_hash() -> str:
    """A well-formed hash no secret matches: compared against when a key id is unknown."""
    return f"{_SCHEME}${secrets.token_hex(32)}"


def verify_secret(key_id: str, secret: str, stored_hash: str) -> bool:
    """Whether ``secret`` matches ``stored_hash``, compared in constant time.

    Always hashes and compares once, also for a malformed ``stored_hash``, so the time taken does
    not depend on what was stored.
    """
    computed = _digest(key_id, secret)
    scheme, _, hex_digest = stored_hash.partition("$")
    try:
        expected = bytes.fromhex(hex_digest)
    except ValueError:
        expected = b""
    same = hmac.compare_digest(computed, expected)
    return same and scheme == _SCHEME
