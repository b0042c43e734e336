"""`hms-server`: serve, migrate, create-user, seed-demo, demo and import-fhir, all on the same
database."""

import argparse
import contextlib
import gc
import getpass
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

from hms_server.settings import Settings

log = logging.getLogger("hms_server")
GRACEFUL_SECONDS = 3  # long-polling clients are not waited for longer when stopping


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {"data_dir": Path(args.data_dir)} if args.data_dir else {}
    return Settings(**overrides)


def _open_database(settings: Settings):  # noqa: ANN202 - returns hms_server.db.Database
    from hms_server.db import Database, database_url, make_engine, migrate

    url = database_url(settings)
    migrate(url)
    return Database(make_engine(url), settings)


def freeze_start_up_objects() -> None:
    """What exists at start-up (modules, the app, pools) lives as long as the process: keep it
    out of full garbage collections, which would otherwise walk it on every request burst."""
    gc.freeze()


def cmd_migrate(args: argparse.Namespace) -> int:
    db = _open_database(_settings(args))
    from hms_server.db import current_revision

    print(f"database schema at revision {current_revision(db.engine)}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from hms_server.app import create_app

    settings = _settings(args)
    if args.mllp_port is not None:
        settings = settings.model_copy(
            update={"mllp_port": args.mllp_port, "mllp_host": args.mllp_host or settings.mllp_host}
        )
    app = create_app(settings, _open_database(settings))
    log.info("hms server listening on http://%s:%s", args.host, args.port)
    freeze_start_up_objects()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise SystemExit("The two passwords differ; nothing was created.")
    return first


def cmd_create_user(args: argparse.Namespace) -> int:
    from hms_core.services.actor import SYSTEM
    from hms_core.services.audit import record_audit
    from hms_server.auth import create_user

    password = _read_password(args)
    db = _open_database(_settings(args))
    try:
        with db.unit_of_work() as session:
            user = create_user(session, args.username, args.role, password, args.full_name or "")
            record_audit(
                session,
                SYSTEM,
                "user.create",
                detail={"username": user.username, "role": user.role},
            )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"created {args.role} user {args.username!r}")
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from hms_server.seed import seed_demo

    settings = _settings(args)
    db = _open_database(settings)
    summary = seed_demo(db, patients=args.patients, timezone=settings.timezone)
    print(summary)
    return 0


def cmd_import_fhir(args: argparse.Namespace) -> int:
    """Load FHIR R4 Bundles into the record; exit 1 when any file could not be imported."""
    from hms_server.fhir_import.importer import import_paths

    db = _open_database(_settings(args))
    try:
        summary = import_paths(db, [Path(p) for p in args.paths])
    finally:
        db.engine.dispose()
    for name, reason in summary.failures:
        print(f"error: {name}: {reason}", file=sys.stderr)
    print("\n".join(summary.lines()))
    return 1 if summary.failures else 0


def _free_port(preferred: int) -> int:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cmd_demo(args: argparse.Namespace) -> int:
    """Embedded database + demo data + server + desktop; closing the desktop stops it all.
    The admitted ICU beds' monitors are simulated, so the ICU station is live."""
    import threading

    import uvicorn

    from hms_server.app import create_app
    from hms_server.seed import DEMO_ICU_BEDS, DEMO_LETTERHEAD, DEMO_PASSWORDS, seed_demo

    settings = _settings(args)
    db = _open_database(settings)
    print(seed_demo(db, patients=args.patients, timezone=settings.timezone))
    port = _free_port(args.port)
    settings = settings.model_copy(update={"mllp_port": _free_port(2575)})
    if not settings.hospital_address:  # the printed bills' letterhead
        settings = settings.model_copy(update=DEMO_LETTERHEAD)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, db),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
        )
    )
    freeze_start_up_objects()
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    print(f"hms server on {url} (demo logins are in README.md)")
    monitors = _DemoMonitors(settings.mllp_port, DEMO_ICU_BEDS)
    env = {**os.environ, "HMS_DEMO_PASSWORD": DEMO_PASSWORDS[args.user]}
    desktop = [sys.executable, "-m", "hms_desktop", "--server", url, "--username", args.user]
    try:
        return subprocess.call(desktop, env=env)
    finally:
        monitors.stop()
        server.should_exit = True
        thread.join(timeout=10)
        db.engine.dispose()


class _DemoMonitors:
    """The demo's bedside monitors: the simulator on its own thread and event loop."""

    def __init__(self, mllp_port: int, beds: int) -> None:
        import asyncio
        import threading

        from hms_server.monitoring.simulator import Simulator

        self._loop = asyncio.new_event_loop()
        simulator = Simulator("127.0.0.1", mllp_port, beds, seed=2026)
        self._task = self._loop.create_task(simulator.run())
        self._thread = threading.Thread(target=self._run, name="hms-demo-monitors", daemon=True)
        self._thread.start()
        print(f"{beds} ICU bedside monitors simulated (HL7/MLLP on port {mllp_port})")

    def _run(self) -> None:
        import asyncio

        with contextlib.suppress(asyncio.CancelledError):
            self._loop.run_until_complete(self._task)
        self._loop.close()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=5)


def cmd_simulate_monitors(args: argparse.Namespace) -> int:
    """Bedside monitors replaying MIMIC-II data over HL7/MLLP; a summary at exit or Ctrl+C."""
    import asyncio

    from hms_server.monitoring.simulator import Simulator

    try:
        simulator = Simulator(
            args.host,
            args.port,
            args.beds,
            duration=args.duration,
            ecg_hz=args.ecg_hz,
            speed=args.speed,
            ward=args.ward,
            first_bed=args.first_bed,
            seed=args.seed,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"simulating {args.beds} monitors ({args.ward}-{args.first_bed:02d} on) to "
        f"{args.host}:{args.port}; Ctrl+C stops",
        flush=True,
    )
    try:
        asyncio.run(_run_until_stopped(simulator))
    except KeyboardInterrupt:
        pass
    finally:
        print(simulator.stats.summary(), flush=True)
    return 0


async def _run_until_stopped(simulator) -> None:  # noqa: ANN001 - a monitoring Simulator
    """Run the simulator; SIGTERM stops it as Ctrl+C does (the summary is still printed)."""
    import asyncio
    import contextlib
    import signal

    task = asyncio.current_task()
    assert task is not None
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await simulator.run()


def _add_simulate_monitors(sub: argparse._SubParsersAction) -> None:
    sim = sub.add_parser(
        "simulate-monitors", help="bedside monitors replaying real ICU data over HL7/MLLP"
    )
    sim.add_argument("--beds", type=int, required=True, help="how many monitors (beds)")
    sim.add_argument("--host", default="127.0.0.1", help="the HL7/MLLP gateway's address")
    sim.add_argument("--port", type=int, default=2575, help="the HL7/MLLP gateway's port")
    sim.add_argument("--ward", default="ICU", help="ward code: devices MON-<ward>-01 ...")
    sim.add_argument("--first-bed", type=int, default=1, help="number of the first bed")
    sim.add_argument(
        "--duration", type=float, default=None, help="seconds to run (default: until Ctrl+C)"
    )
    sim.add_argument("--ecg-hz", type=int, choices=(250, 125), default=250)
    sim.add_argument("--speed", type=float, default=1.0, help="numerics timeline speed-up")
    sim.add_argument("--seed", type=int, default=None, help="same seed, same beds")
    sim.set_defaults(func=cmd_simulate_monitors)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hms-server", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        help="where the embedded PostgreSQL keeps its files (ignored with HMS_DATABASE_URL)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", parents=[common], help="run the API server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--mllp-port", type=int, help="also receive bedside monitors (HL7/MLLP) on this port"
    )
    serve.add_argument("--mllp-host", help="address the monitor gateway listens on")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", parents=[common], help="apply database migrations").set_defaults(
        func=cmd_migrate
    )

    user = sub.add_parser("create-user", parents=[common], help="create a staff account")
    user.add_argument("username")
    user.add_argument("--role", required=True)
    user.add_argument("--full-name")
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user.set_defaults(func=cmd_create_user)

    seed = sub.add_parser("seed-demo", parents=[common], help="load the demo hospital")
    seed.add_argument("--patients", type=int, default=240)
    seed.set_defaults(func=cmd_seed_demo)

    demo = sub.add_parser("demo", parents=[common], help="demo data, server and desktop at once")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--patients", type=int, default=240)
    demo.add_argument(
        "--user",
        default="reception",
        choices=("reception", "doctor", "nurse", "lab", "pharmacy", "billing", "admin"),
        help="who the desktop signs in as (nurse: ward and ICU station; billing: the desk)",
    )
    demo.set_defaults(func=cmd_demo)

    fhir = sub.add_parser(
        "import-fhir", parents=[common], help="load FHIR R4 Bundles (.json, .json.gz, folders)"
    )
    fhir.add_argument("paths", nargs="+", metavar="PATH", help="bundle files or folders of them")
    fhir.set_defaults(func=cmd_import_fhir)
    _add_simulate_monitors(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
