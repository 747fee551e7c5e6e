"""The ``crmlink`` command: serve, manage keys and the database, list connectors, run emulators."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        help="SQLAlchemy URL (default: $CRMLINK_DATABASE_URL or sqlite:///crmlink.db)",
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crmlink",
        description="crmlink: an open Universal CRM API. Declare events once; each customer "
        "maps them onto their own CRM.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP API server")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    _database(serve)
    serve.add_argument(
        "--demo",
        action="store_true",
        help="create (once) a demo app, API key and mapped memory-CRM connection; print curl "
        "commands for the seed's three requests",
    )
    serve.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="log every request (default on)",
    )
    serve.add_argument(
        "--migrate",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="apply database migrations on start (default: only for SQLite)",
    )

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="apply the Alembic migrations")
    _database(upgrade)

    keys = commands.add_parser("keys", help="manage API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = key_commands.add_parser(
        "create", help="create an API key for an app (the app is created if new)"
    )
    create.add_argument("--app", required=True, help="app name")
    _database(create)
    revoke = key_commands.add_parser("revoke", help="revoke a key, effective on the next request")
    revoke.add_argument("key_id", help="the KEY_ID part of KEY_ID:SECRET")
    _database(revoke)
    listing = key_commands.add_parser("list", help="list an app's keys (never their secrets)")
    listing.add_argument("--app", required=True, help="app name")
    _database(listing)

    commands.add_parser("connectors", help="list installed connectors")

    emulate = commands.add_parser(
        "emulate", help="serve a local emulator of a CRM's REST API (salesforce, hubspot)"
    )
    emulate.add_argument("name", help="the emulator, e.g. salesforce or hubspot")
    emulate.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    emulate.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    emulate.add_argument("--token", default=None, help="the access token it accepts")
    return parser


def _store(database: str | None, *, migrate: bool = False) -> Any:
    from crmlink.server.app import open_store
    from crmlink.server.settings import ServerSettings

    settings = ServerSettings.from_env(database)
    store = open_store(settings)
    if migrate:
        store.upgrade()
    return store


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from crmlink.server.app import create_app, open_store
    from crmlink.server.demo import setup_demo
    from crmlink.server.settings import ServerSettings

    settings = ServerSettings.from_env(args.database)
    store = open_store(settings)
    migrate = settings.is_sqlite if args.migrate is None else args.migrate
    if migrate:
        store.upgrade()
    store.purge_idempotency_keys(settings.idempotency_ttl)
    if settings.secret_key is None:
        print(
            f"crmlink: CRM settings are encrypted with the key in {settings.key_file}",
            file=sys.stderr,
        )
    app = create_app(settings, store=store)
    if args.demo:
        base = settings.key_file or Path.cwd() / "crmlink.key"
        credentials = base.with_name("crmlink-demo.json")
        demo = setup_demo(store, app.state.engine, credentials)
        print(demo.instructions(f"http://{args.host}:{args.port}"), flush=True)
    # Everything loaded so far (modules, plugins, the app) lives as long as the process. Moving
    # it out of the collector's reach keeps full collections short: with the connectors'
    # client libraries imported, each one otherwise pauses every request in flight for
    # about 100 ms.
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=args.access_log)
    return 0


def _keys(args: argparse.Namespace) -> int:
    store = _store(args.database, migrate=_is_sqlite(args.database))
    if args.keys_command == "create":
        app_id = store.ensure_app(args.app)
        key_id, secret = store.create_api_key(app_id)
        print(f"API key for app {args.app!r} (the secret is shown once):", file=sys.stderr)
        print(f"{key_id}:{secret}")
        return 0
    if args.keys_command == "revoke":
        if not store.revoke_api_key(args.key_id):
            print(f"crmlink: no active key {args.key_id!r}", file=sys.stderr)
            return 1
        print(f"revoked {args.key_id}")
        return 0
    app_id = store.app_by_name(args.app)
    if app_id is None:
        print(f"crmlink: no app named {args.app!r}", file=sys.stderr)
        return 1
    for key in store.list_api_keys(app_id):
        state = f"revoked {key['revoked_at']}" if key.get("revoked_at") else "active"
        print(f"{key['key_id']}\tcreated {key['created_at']}\t{state}")
    return 0


def _is_sqlite(database: str | None) -> bool:
    from crmlink.server.settings import ServerSettings

    return ServerSettings.from_env(database).is_sqlite


def _connectors() -> int:
    from crmlink.plugins import default_host

    rows = sorted(default_host().connectors().values(), key=lambda info: info.name)
    for info in rows:
        print(f"{info.name}\t{info.distribution or '-'}\t{info.version or '-'}")
    return 0


def _emulate(args: argparse.Namespace) -> int:
    from crmlink.plugins import default_host

    factories = default_host().emulators()
    factory = factories.get(args.name)
    if factory is None:
        known = ", ".join(sorted(factories)) or "none installed"
        print(f"crmlink: no emulator named {args.name!r} ({known})", file=sys.stderr)
        return 2
    kwargs: dict[str, Any] = {"host": args.host, "port": args.port}
    if args.token:
        kwargs["token"] = args.token
    emulator = factory(**kwargs)
    emulator.serve_forever()  # prints its URL, with the port bound, and how to get in
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``crmlink`` command."""
    from crmlink.secrets import SecretKeyError

    args = _build_parser().parse_args(argv)
    try:
        return _run(args)
    except SecretKeyError as exc:
        print(f"crmlink: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        return _serve(args)
    if args.command == "db":
        _store(args.database, migrate=True)
        print("database is up to date")
        return 0
    if args.command == "keys":
        return _keys(args)
    if args.command == "connectors":
        return _connectors()
    return _emulate(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
