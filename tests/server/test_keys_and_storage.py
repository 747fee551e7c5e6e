"""API keys from the CLI, revocation and rotation; secrets encrypted at rest; crash safety;
servers sharing one database."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from crmlink.emulator import ThreadedServer
from crmlink.server import ServerSettings, create_app
from crmlink.server.demo import DEMO_MAPPING
from crmlink.store.sql import SqlStore
from crmlink.testing import DEMO_OBJECTS
from sqlalchemy.engine import make_url

from tests.server.conftest import App, LiveServer, envelope

SECRET = "tok-PLAINTEXT-NEEDLE-8c41"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmlink.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_keys_create_prints_the_key_last_and_revoke_takes_effect_at_once(
    server: LiveServer,
) -> None:
    env = {"CRMLINK_SECRET_KEY": server.secret_key}
    created = _cli("keys", "create", "--app", "cli-app", "--database", server.database_url, env=env)
    assert created.returncode == 0, created.stderr
    key_id, _, secret = created.stdout.strip().splitlines()[-1].partition(":")
    assert key_id.startswith("ck_")
    assert secret.startswith("cs_")
    second = _cli("keys", "create", "--app", "cli-app", "--database", server.database_url, env=env)
    key2_id, _, secret2 = second.stdout.strip().splitlines()[-1].partition(":")
    url = f"{server.url}/api/v1/crm"
    assert httpx.get(url, auth=(key_id, secret)).status_code == 200
    assert httpx.get(url, auth=(key2_id, secret2)).status_code == 200  # rotation: both valid
    revoked = _cli("keys", "revoke", key_id, "--database", server.database_url, env=env)
    assert revoked.returncode == 0, revoked.stderr
    envelope(httpx.get(url, auth=(key_id, secret)), 401, "unauthorized")
    assert httpx.get(url, auth=(key2_id, secret2)).status_code == 200
    listed = _cli("keys", "list", "--app", "cli-app", "--database", server.database_url, env=env)
    assert key_id in listed.stdout
    assert "revoked" in listed.stdout
    assert secret not in listed.stdout


def _database_bytes(database_url: str) -> bytes:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        db = Path(str(url.database))
        return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    pg_dump = shutil.which("pg_dump") or next(
        str(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))
    )
    return subprocess.run(
        [
            pg_dump,
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            "-d",
            str(url.database),
        ],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout


def test_crm_secrets_are_encrypted_at_rest(server: LiveServer, app: App) -> None:
    with app.http() as http:
        http.put(
            "/api/v1/crm/vault-1",
            json={"connector": "vault", "settings": {"api_token": SECRET}, "objects": DEMO_OBJECTS},
        ).raise_for_status()
    dump = _database_bytes(server.database_url)
    assert b"vault-1" in dump, "the dump should hold the connection"
    assert SECRET.encode() not in dump
    assert app.secret.encode() not in dump, "API secrets are stored only as hashes"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(database: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crmlink.cli",
            "serve",
            "--port",
            str(port),
            "--database",
            database,
            "--migrate",
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("server did not start")


def test_killing_the_server_mid_load_loses_nothing_committed(
    server: LiveServer, tmp_path: Path
) -> None:
    env = {"CRMLINK_SECRET_KEY": server.secret_key}
    app_id = server.store.ensure_app("crash-app")
    key = server.store.create_api_key(app_id)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start(server.database_url, port, env)
    acknowledged: list[str] = []
    try:
        with httpx.Client(base_url=base, auth=key, timeout=10) as http:
            http.put(
                "/api/v1/crm/crash",
                json={"connector": "memory", "settings": {}, "objects": DEMO_OBJECTS},
            ).raise_for_status()
            http.put("/api/v1/crm/crash/mapping", json=DEMO_MAPPING).raise_for_status()
            url = "/api/v1/crm/crash/objects/opportunity/events/create_opportunity"
            for i in range(400):
                if i == 150:
                    process.send_signal(signal.SIGKILL)
                try:
                    response = http.post(url, json={"payload": {"name": f"n{i}"}})
                except httpx.TransportError:
                    break
                if response.status_code == 200:
                    acknowledged.append(response.json()["record"]["id"])
    finally:
        process.kill()
        process.wait()
    assert len(acknowledged) >= 100
    process = _start(server.database_url, port, env)
    try:
        with httpx.Client(base_url=base, auth=key, timeout=10) as http:
            connection = http.get("/api/v1/crm/crash").json()
            assert connection["mapping_status"]["opportunity"]["create_opportunity"] == "mapped"
            logged: set[str] = set()
            before = None
            while True:
                params: dict[str, str | int] = {"limit": 200}
                if before is not None:
                    params["before"] = before
                page = http.get("/api/v1/crm/crash/invocations", params=params).json()
                logged |= {e["record_id"] for e in page["invocations"] if e["record_id"]}
                before = page["next"]
                if before is None:
                    break
    finally:
        process.kill()
        process.wait()
    assert set(acknowledged) <= logged


@pytest.mark.parametrize("_", [0])
def test_demo_is_idempotent_and_its_curl_commands_work(tmp_path: Path, _: int) -> None:
    if shutil.which("curl") is None:
        pytest.fail("curl is needed to run the demo's printed commands")
    port = _free_port()
    database = f"sqlite:///{tmp_path / 'demo.db'}"
    printed = []
    for _round in range(2):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "crmlink.cli",
                "serve",
                "--demo",
                "--port",
                str(port),
                "--database",
                database,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "CRMLINK_SECRET_KEY"},
        )
        try:
            assert process.stdout is not None
            lines = []
            for line in process.stdout:
                lines.append(line)
                if "/invocations" in line:
                    break
            printed.append("".join(lines))
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
            commands = [ln.strip() for ln in lines if ln.strip().startswith("curl ")]
            assert len(commands) == 4
            outputs = [
                subprocess.run(["bash", "-c", c], capture_output=True, text=True, check=True).stdout
                for c in commands
            ]
        finally:
            process.terminate()
            process.wait(timeout=30)
        assert '"action":"create"' in outputs[0]
        assert '"document_name":"Apple Sales Contract"' in outputs[0]
        assert '"action":"update"' in outputs[1]
        assert '"document_name":"Sales Contract"' in outputs[1]
        assert '"data":{}' in outputs[2]
        assert '"invocations"' in outputs[3]
    key_line = [ln for ln in printed[0].splitlines() if "API key" in ln]
    assert key_line
    assert key_line == [ln for ln in printed[1].splitlines() if "API key" in ln]
    assert (tmp_path / "demo.key").stat().st_mode & 0o777 == 0o600


def test_changes_saved_through_another_server_reach_the_next_invocation(
    server: LiveServer, app: App
) -> None:
    """Two servers on one database: a mapping change or a deletion made on one is what the
    other's next invocation sees (it reads the connection's version with the API key)."""
    other_store = SqlStore(server.database_url, secret_key=server.secret_key)
    other = ThreadedServer(
        create_app(
            ServerSettings(database_url=server.database_url, secret_key=server.secret_key),
            store=other_store,
        )
    ).start()
    try:
        app.link_demo("shared")
        path = "/api/v1/crm/shared/objects/opportunity/events/create_opportunity"
        with app.http() as here:
            first = here.post(path, json={"payload": {"name": "Before"}})
            assert first.json()["record"]["data"]["document_name"] == "Before"
            changed = json.loads(json.dumps(DEMO_MAPPING))
            changed["objects"]["opportunity"]["events"]["create_opportunity"]["fields"]["Name"] = {
                "value": "Fixed name"
            }
            with httpx.Client(base_url=other.url, auth=app.auth, timeout=30) as there:
                assert there.put("/api/v1/crm/shared/mapping", json=changed).status_code == 200
                second = here.post(path, json={"payload": {"name": "After"}})
                assert second.json()["record"]["data"]["document_name"] == "Fixed name"
                assert there.delete("/api/v1/crm/shared").status_code == 204
            envelope(here.post(path, json={"payload": {"name": "Gone"}}), 404, "not_found")
    finally:
        other.stop()
        other_store.close()
