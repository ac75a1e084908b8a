"""`steward`: the one command line for operators and developers (SPEC §6)."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType

from steward.settings import Settings


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from steward.store.database import downgrade, make_engine, upgrade

    engine = make_engine(settings.database)
    if args.downgrade:
        downgrade(engine, args.downgrade)
    else:
        upgrade(engine)
    return 0


def _seed(_args: argparse.Namespace, settings: Settings) -> int:
    from steward.seed import seed_demo
    from steward.store.database import make_engine, session_factory

    created = seed_demo(session_factory(make_engine(settings.database)))
    print("demo community created" if created else "demo community already present")
    return 0


def _token(args: argparse.Namespace, settings: Settings) -> int:
    from steward.store.database import make_engine, session_factory
    from steward.tokens import UnknownSubject, create_token
    from workflows.contracts import Role

    try:
        print(create_token(session_factory(make_engine(settings.database)), Role(args.role), args.subject))
    except UnknownSubject as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _revoke(args: argparse.Namespace, settings: Settings) -> int:
    from steward.store.database import make_engine, session_factory
    from steward.tokens import revoke_subject, revoke_token

    sessions = session_factory(make_engine(settings.database))
    if args.subject:
        revoked = revoke_subject(sessions, args.subject)
    else:
        revoked = int(revoke_token(sessions, args.token))
    if not revoked:
        print("error: no live token to revoke (unknown, or already revoked)", file=sys.stderr)
        return 1
    print(f"revoked {revoked} token{'s' if revoked > 1 else ''}")
    return 0


def _reconcile(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from workers.reconcile import run

    return asyncio.run(run(settings, args.repair))


def _worker(_args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from steward.safety import refuse_unsafe
    from steward.temporal import SearchAttributesMissing
    from workers.serve import run_worker

    if refuse_unsafe(settings, "worker"):
        return 2
    try:
        asyncio.run(run_worker(settings))
    except SearchAttributesMissing as missing:
        print(f"steward worker: refusing to start: {missing}", file=sys.stderr)
        return 2
    return 0


def _api(_args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from steward.safety import refuse_unsafe

    if refuse_unsafe(settings, "api"):
        return 2

    uvicorn.run("api.app:create_app", factory=True, host=settings.api_host, port=settings.api_port,
                log_config=None, access_log=False)  # steward.logs formats; api.request_ids logs each request
    return 0


class MissingPart(Exception):
    """A development-only part this installation lacks; the message says how to get it."""


CHECKOUT = Path(__file__).resolve().parents[1]
NO_SANDBOX = ("the Twilio sandbox ships with the source, not with the steward package: "
              "run from a checkout (git clone, then `make dev`)")
NO_DEV_SERVER = ("`steward dev` needs the Temporal dev server: install steward[dev] "
                 "(pip install 'steward[dev]'; `make dev` does), or set STEWARD_TEMPORAL_ADDRESS")


def _sandbox_app() -> ModuleType:
    """The sandbox's app module. It is not in the wheel; an editable install from a checkout has it
    next to workers/, whatever the current directory."""
    if (CHECKOUT / "sandbox" / "app.py").is_file() and str(CHECKOUT) not in sys.path:
        sys.path.append(str(CHECKOUT))
    try:
        return importlib.import_module("sandbox.app")
    except ModuleNotFoundError as error:
        if error.name not in ("sandbox", "sandbox.app"):
            raise
        raise MissingPart(NO_SANDBOX) from None


def _sandbox(_args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    sandbox = _sandbox_app()
    config = sandbox.SandboxConfig(
        account_sid=settings.twilio_account_sid, auth_token=settings.twilio_auth_token,
        webhook_base_url=settings.webhook_base_url, devices_database_url=settings.database)
    uvicorn.run(sandbox.create_app(config), host=settings.api_host, port=settings.sandbox_port,
                log_config=None)
    return 0


def _dev(_args: argparse.Namespace, settings: Settings) -> int:
    from workers.dev import run_dev

    _sandbox_app()
    if settings.temporal_address is None and not (Path(sys.executable).parent / "temporal").exists():
        raise MissingPart(NO_DEV_SERVER)
    return run_dev(settings)


# The processes whose logs an operator collects (issue 19); one-shot commands print to the terminal.
LONG_RUNNING = ("dev", "worker", "api", "sandbox")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="steward", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="run the whole system on embedded defaults").set_defaults(run=_dev)
    commands.add_parser("worker", help="run the Temporal worker").set_defaults(run=_worker)
    commands.add_parser("api", help="run the HTTP API").set_defaults(run=_api)
    commands.add_parser("sandbox", help="run the local Twilio-compatible sandbox").set_defaults(run=_sandbox)
    migrate = commands.add_parser("migrate", help="upgrade the database schema (Alembic)")
    migrate.add_argument("--downgrade", metavar="REVISION", help="downgrade to REVISION (e.g. base)")
    migrate.set_defaults(run=_migrate)
    commands.add_parser("seed", help="create the demo community if missing").set_defaults(run=_seed)
    reconcile = commands.add_parser(
        "reconcile", help="compare the SQL read model with the workflows; exit 1 while they differ")
    reconcile.add_argument("--repair", action="store_true",
                           help="rewrite drifted rows from the workflows' own state")
    reconcile.set_defaults(run=_reconcile)
    token = commands.add_parser("token", help="API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="print a new bearer token")
    create.add_argument("--role", required=True, choices=["resident", "staff", "supervisor", "admin"])
    create.add_argument("--subject", required=True, help="the person's id in the directory")
    create.set_defaults(run=_token)
    revoke = token_commands.add_parser("revoke", help="refuse a token, or every token of a person, at once")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("token", nargs="?", help="the token as it was printed")
    which.add_argument("--subject", help="revoke every token of this person (directory id or admin name)")
    revoke.set_defaults(run=_revoke)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings()
    if args.command in LONG_RUNNING:
        from steward.logs import configure

        configure(settings)
    try:
        return args.run(args, settings)
    except MissingPart as missing:
        print(f"error: {missing}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
