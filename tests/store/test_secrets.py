"""crmlink.secrets: the secret key's sources, the key file, encryption and rotation."""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path

import pytest
from crmlink.secrets import (
    KEY_FILE_NAME,
    SecretBox,
    SecretDecryptionError,
    SecretKeyError,
    default_key_file,
    generate_key,
    load_secret_key,
)
from cryptography.fernet import Fernet


def test_environment_wins(tmp_path: Path) -> None:
    key = generate_key()
    key_file = tmp_path / "crmlink.key"
    loaded, source = load_secret_key({"CRMLINK_SECRET_KEY": f"  {key}\n"}, key_file)
    assert loaded == key
    assert "CRMLINK_SECRET_KEY" in source
    assert key not in source
    assert not key_file.exists()  # no file is made when the variable is set


def test_several_keys_first_encrypts() -> None:
    new, old = generate_key(), generate_key()
    loaded, source = load_secret_key({"CRMLINK_SECRET_KEY": f"{new}, {old}"})
    assert loaded == f"{new},{old}"
    assert "2 keys" in source
    token = SecretBox(loaded).encrypt(b"x")
    assert Fernet(new.encode()).decrypt(token) == b"x"
    assert SecretBox(old).encrypt(b"y") != b""
    assert SecretBox(loaded).decrypt(Fernet(old.encode()).encrypt(b"old")) == b"old"


def test_bad_key_message_has_no_key_material() -> None:
    good = generate_key()
    bad = "not-a-valid-fernet-key-" + "s3cr3t"
    with pytest.raises(SecretKeyError) as caught:
        load_secret_key({"CRMLINK_SECRET_KEY": f"{good},{bad}"})
    message = str(caught.value)
    assert "key 2 of 2" in message
    assert bad not in message
    assert "s3cr3t" not in message
    assert good not in message
    with pytest.raises(SecretKeyError):
        SecretBox(" , ")


def test_no_key_anywhere() -> None:
    with pytest.raises(SecretKeyError, match="CRMLINK_SECRET_KEY"):
        load_secret_key({})
    with pytest.raises(SecretKeyError):
        load_secret_key({"CRMLINK_SECRET_KEY": ""})  # empty counts as unset


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "deep" / "er" / "crmlink.key"
    key, source = load_secret_key({}, key_file)
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert source.startswith("created")
    assert str(key_file) in source
    assert key not in source
    Fernet(key.encode())
    again, source_again = load_secret_key({}, key_file)
    assert again == key
    assert not source_again.startswith("created")
    assert [p.name for p in key_file.parent.iterdir()] == ["crmlink.key"]  # no temp files left


def test_key_file_created_under_restrictive_umask_and_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        load_secret_key({}, tmp_path / "a.key")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "a.key").stat().st_mode) == 0o600


def test_racing_first_starts_agree_on_one_key(tmp_path: Path) -> None:
    key_file = tmp_path / "crmlink.key"
    keys: list[str] = []
    created: list[bool] = []
    barrier = threading.Barrier(16)
    lock = threading.Lock()

    def load() -> None:
        barrier.wait()
        key, source = load_secret_key({}, key_file)
        with lock:
            keys.append(key)
            created.append(source.startswith("created"))

    threads = [threading.Thread(target=load) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1
    assert created.count(True) == 1
    assert keys[0] == key_file.read_text().strip()


def test_existing_key_file_with_several_keys(tmp_path: Path) -> None:
    a, b = generate_key(), generate_key()
    key_file = tmp_path / "crmlink.key"
    key_file.write_text(f"{a}\n{b}\n")
    key_file.chmod(0o600)
    assert load_secret_key({}, key_file)[0] == f"{a},{b}"


def test_readable_key_file_warns_without_leaking(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = generate_key()
    key_file = tmp_path / "crmlink.key"
    key_file.write_text(key)
    key_file.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="crmlink.secrets"):
        assert load_secret_key({}, key_file)[0] == key
    assert "chmod 600" in caplog.text
    assert key not in caplog.text


def test_corrupt_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "crmlink.key"
    key_file.write_text("garbage-key-material")
    with pytest.raises(SecretKeyError) as caught:
        load_secret_key({}, key_file)
    assert "garbage" not in str(caught.value)


def test_default_key_file() -> None:
    assert default_key_file("sqlite:////var/lib/crmlink/crmlink.db") == Path(
        "/var/lib/crmlink", KEY_FILE_NAME
    )
    relative = default_key_file("sqlite:///data/x.db")
    assert relative is not None
    assert relative == Path.cwd() / "data" / KEY_FILE_NAME
    assert default_key_file("sqlite://") is None
    assert default_key_file("sqlite:///:memory:") is None
    assert default_key_file("postgresql+psycopg://u@h/db") is None


def test_secret_box_json_roundtrip_and_rotation() -> None:
    old, new = generate_key(), generate_key()
    value = {"token": "abc", "nested": {"n": [1, 2.5, None, True]}, "ü": "é"}
    old_box = SecretBox(old)
    token = old_box.encrypt_json(value)
    assert "abc" not in token
    assert token.isascii()
    both = SecretBox(f"{new},{old}")
    assert both.decrypt_json(token) == value
    assert not both.is_current(token)
    rotated = both.rotate(token)
    assert both.is_current(rotated)
    assert SecretBox(new).decrypt_json(rotated) == value
    with pytest.raises(SecretDecryptionError) as caught:
        SecretBox(new).decrypt_json(token)
    assert "abc" not in str(caught.value)
    with pytest.raises(SecretDecryptionError):
        SecretBox(generate_key()).rotate(token)
    assert old not in repr(old_box)
    assert SecretBox(old.encode()).decrypt_json(token) == value  # bytes keys work too
