"""`mixpeek-emulator`: serve a generated account on a port until interrupted."""

from __future__ import annotations

import argparse

from mixpeek_emulator.faults import FAULT_KINDS, Faults
from mixpeek_emulator.profiles import QUIRKS, ServerProfile
from mixpeek_emulator.server import EmulatorServer
from mixpeek_emulator.store import TaskStore


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="mixpeek-emulator",
        description="A local Mixpeek emulator of POST /v1/tasks/list and GET /v1/tasks/{id}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="server profile quirks:\n" + "\n".join(
            f"  {name:<20} {description}" for name, description in QUIRKS.items()))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--tasks", type=int, default=5000, help="tasks in the generated account")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--churn", type=int, default=0,
                        help="tasks created and status changes made before each request")
    parser.add_argument("--churn-deletes", type=int, default=0,
                        help="tasks deleted before each request")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before each answer")
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="share of requests answered with an injected fault")
    parser.add_argument("--fault-kinds", default=",".join(FAULT_KINDS),
                        help="comma-separated kinds to draw from")
    parser.add_argument("--rate-limit", type=int, default=None,
                        help="requests admitted per minute; more are answered 429 with "
                             "Retry-After (default: no limit)")
    parser.add_argument("--drip-seconds", type=float, default=0.5,
                        help="pause before each 16-byte piece of a dripping answer (kind drip)")
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any)")
    parser.add_argument("--server-profile", default="",
                        help="comma-separated quirks (listed below); default: none, the "
                             "documented behaviour")
    parser.add_argument("--id-prefix", default=None,
                        help="custom task ids: this prefix and 24 hex digits (default: UUID v4)")
    args = parser.parse_args(argv)
    try:
        profile = ServerProfile.parse(args.server_profile)
    except ValueError as error:
        parser.error(str(error))
    server = EmulatorServer(
        (args.host, args.port), TaskStore.generate(args.tasks, args.seed, id_prefix=args.id_prefix),
        churn=args.churn, churn_deletes=args.churn_deletes, latency_ms=args.latency_ms,
        api_key=args.api_key, profile=profile, rate_limit=args.rate_limit,
        faults=Faults(args.fault_rate, tuple(args.fault_kinds.split(",")), args.seed,
                      drip_seconds=args.drip_seconds))
    quirks = ", ".join(profile.names) or "none"
    print(f"mixpeek-emulator listening on {server.base_url} with {args.tasks} tasks "
          f"(server profile quirks: {quirks})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
