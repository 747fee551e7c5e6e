"""Encryption at rest of CRM credentials, and the server's secret key.

The key is one or more Fernet keys (AES-128-CBC + HMAC-SHA-256, from ``cryptography``),
comma-separated. The first key encrypts; every key decrypts, so keys rotate without downtime:

1. prepend a new key: ``CRMLINK_SECRET_KEY=<new>,<old>`` and restart the servers;
2. re-encrypt the stored settings (:meth:`crmlink.store.sql.SqlStore.rotate_secrets`);
3. drop the old key.

Where the key comes from (:func:`load_secret_key`): ``CRMLINK_SECRET_KEY`` when set, otherwise a
key file (by default ``crmlink.key`` next to the SQLite database), created with mode 0600 on first
use. Several servers sharing one PostgreSQL database must share the key: set the variable.

Nothing here logs a key or puts one (or any plaintext) in an exception message.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import make_url

__all__ = [
    "ENV_VAR",
    "KEY_FILE_NAME",
    "SecretBox",
    "SecretDecryptionError",
    "SecretKeyError",
    "default_key_file",
    "generate_key",
    "load_secret_key",
    "parse_secret_key",
]

log = logging.getLogger("crmlink.secrets")

ENV_VAR = "CRMLINK_SECRET_KEY"
KEY_FILE_NAME = "crmlink.key"
_SEPARATORS = re.compile(r"[,\s]+")


class SecretKeyError(Exception):
    """The secret key is missing or malformed. The message never contains key material."""


class SecretDecryptionError(Exception):
    """A stored value does not decrypt with any configured key (wrong key, or tampered)."""


def generate_key() -> str:
    """A new random Fernet key (32 bytes, URL-safe base64)."""
    return Fernet.generate_key().decode("ascii")


def parse_secret_key(value: str | bytes, *, source: str = ENV_VAR) -> list[bytes]:
    """The Fernet keys in ``value`` (comma- or whitespace-separated), the encrypting one first."""
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    parts = [part for part in _SEPARATORS.split(text.strip()) if part]
    if not parts:
        raise SecretKeyError(f"{source} holds no key")
    keys: list[bytes] = []
    for position, part in enumerate(parts, start=1):
        key = part.encode("ascii", "replace")
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise SecretKeyError(
                f"{source}: key {position} of {len(parts)} is not a Fernet key "
                "(expected 32 random bytes, URL-safe base64 encoded; "
                "make one with `python -c 'from crmlink.secrets import generate_key; "
                "print(generate_key())'`)"
            ) from None
        keys.append(key)
    return keys


class SecretBox:
    """Encrypts and decrypts values with the configured keys (the first one encrypts)."""

    __slots__ = ("_fernet", "_primary")

    def __init__(self, secret_key: str | bytes) -> None:
        keys = parse_secret_key(secret_key)
        self._primary = Fernet(keys[0])
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def __repr__(self) -> str:
        return "SecretBox(<keys hidden>)"

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise SecretDecryptionError(
                "a stored secret does not decrypt with any configured key "
                f"(is {ENV_VAR} the key it was written with?)"
            ) from None

    def encrypt_json(self, value: Any) -> str:
        """``value`` as JSON, encrypted: an ASCII Fernet token."""
        data = json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")
        return self.encrypt(data).decode("ascii")

    def decrypt_json(self, token: str) -> Any:
        return json.loads(self.decrypt(token.encode("ascii")))

    def is_current(self, token: str) -> bool:
        """Whether ``token`` was encrypted with the first (current) key."""
        try:
            self._primary.decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        """``token`` re-encrypted with the first key (the plaintext is unchanged)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise SecretDecryptionError(
                "a stored secret does not decrypt with any configured key"
            ) from None


def default_key_file(database_url: str) -> Path | None:
    """``crmlink.key`` next to a SQLite database file; ``None`` for other databases.

    There is no default for PostgreSQL: servers sharing a database must share the key, so it
    belongs in ``CRMLINK_SECRET_KEY`` rather than in a file on one machine.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser().absolute().parent / KEY_FILE_NAME


def load_secret_key(
    env: Mapping[str, str] = os.environ, key_file: Path | str | None = None
) -> tuple[str, str]:
    """The secret key to use, and a description of where it came from (no key material).

    ``CRMLINK_SECRET_KEY`` wins when set (an empty value counts as unset). Otherwise
    ``key_file`` is read; if it does not exist it is created (parent directories too) holding a
    new key, with mode 0600, atomically: concurrent first starts all end up with the same key.
    """
    value = env.get(ENV_VAR, "").strip()
    if value:
        keys = parse_secret_key(value, source=ENV_VAR)
        return _join(keys), f"the {ENV_VAR} environment variable ({_count(keys)})"
    if key_file is None:
        raise SecretKeyError(
            f"no secret key: set {ENV_VAR} (a Fernet key; several servers must share it)"
        )
    path = Path(key_file).expanduser()
    created = _create_key_file(path)
    keys = _read_key_file(path)
    verb = "created key file" if created else "key file"
    return _join(keys), f"{verb} {path} ({_count(keys)})"


def _join(keys: list[bytes]) -> str:
    return ",".join(key.decode("ascii") for key in keys)


def _count(keys: list[bytes]) -> str:
    return "1 key" if len(keys) == 1 else f"{len(keys)} keys"


def _read_key_file(path: Path) -> list[bytes]:
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise SecretKeyError(f"cannot read the key file {path}: {exc.strerror}") from None
    if os.name == "posix" and stat.S_IMODE(mode) & 0o077:
        log.warning(
            "the key file %s is readable by other users (mode %o); run: chmod 600 %s",
            path,
            stat.S_IMODE(mode),
            path,
        )
    return parse_secret_key(data, source=f"key file {path}")


def _create_key_file(path: Path) -> bool:
    """Create ``path`` holding a new key unless it exists. Whether this call created it.

    The key is written to a private temporary file first (``O_CREAT | O_EXCL``, mode 0600) and
    then published with a hard link, which fails if the file appeared meanwhile: a reader never
    sees a half-written key file, and racing processes agree on the winner's key.
    """
    if path.exists():
        return False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    content = (generate_key() + "\n").encode("ascii")
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    _write_exclusive(temporary, content)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    except OSError:
        # A file system without hard links: create the file itself exclusively instead.
        try:
            _write_exclusive(path, content)
        except FileExistsError:
            return False
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    _sync_directory(path.parent)
    log.info("created a new secret key file %s", path)
    return True


def _write_exclusive(path: Path, content: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    os.close(fd)


def _sync_directory(directory: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
