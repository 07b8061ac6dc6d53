"""``python -m pc_sandbox``: serve the sandbox until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import ssl
from collections.abc import Sequence
from datetime import timedelta

from aiohttp import web

from .app import create_sandbox_app
from .demo import DEMO
from .options import SandboxOptions

logger = logging.getLogger("pc_sandbox")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pc_sandbox", description="Serve the embedded Partner Center sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--latency-ms", type=float, default=0, help="delay added to every /v1 request")
    parser.add_argument("--rate-limit", type=int, default=0, help="requests per window per resource family (0 = off)")
    parser.add_argument("--rate-window-seconds", type=float, default=60)
    parser.add_argument("--fault-rate", type=float, default=0.0, help="fraction of /v1 requests answered 5xx")
    parser.add_argument("--fault-after-rate", type=float, default=0.0, help="fraction of /v1 requests answered 5xx after processing")
    parser.add_argument("--throttle-burst-every", type=float, default=0, help="seconds between bursts of 429 (0 = none)")
    parser.add_argument("--throttle-burst-seconds", type=float, default=0, help="length of each 429 burst")
    parser.add_argument("--spike-rate", type=float, default=0.0, help="fraction of /v1 requests delayed by --spike-ms")
    parser.add_argument("--spike-ms", type=float, default=2000, help="length of a latency spike")
    parser.add_argument("--seed", default=None, help="seed JSON file (default: the packaged demo world)")
    parser.add_argument("--random-seed", type=int, default=0, help="makes random faults and spikes reproducible")
    parser.add_argument(
        "--documented-removal-rules",
        action="store_true",
        help="refuse a removal only for what Microsoft documents (active subscriptions, reserved instances)",
    )
    parser.add_argument(
        "--removal-patch-answer",
        default="200",
        choices=("200", "400-3000", "403-20002"),
        help="what the removal PATCH answers (refusals change nothing)",
    )
    parser.add_argument(
        "--removed-customer-read",
        default="200",
        choices=("200", "403", "404"),
        help="what GET /v1/customers/{id} answers after a removal (undocumented)",
    )
    parser.add_argument(
        "--delegated-access-revoked",
        action="store_true",
        help="GET /v1/customers/{id} answers 403/20002 while still a reseller (DAP/GDAP revoked)",
    )
    parser.add_argument("--mfa-enforced", action="store_true", help="refuse app+user tokens without MFA (401/900421)")
    parser.add_argument("--no-user-mfa", action="store_true", help="the user's sign-in had no MFA (no amr 'mfa')")
    parser.add_argument(
        "--azure-cancel-delay-minutes",
        type=float,
        default=10,
        help="sandbox-clock minutes a cancelled Azure subscription still reads active (Microsoft: about 10)",
    )
    parser.add_argument("--certfile", default=None, help="serve HTTPS with this PEM certificate (MSAL needs https)")
    parser.add_argument("--keyfile", default=None, help="private key for --certfile")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        options = SandboxOptions(
            latency_ms=args.latency_ms,
            rate_limit=args.rate_limit,
            rate_window_seconds=args.rate_window_seconds,
            fault_rate=args.fault_rate,
            fault_after_rate=args.fault_after_rate,
            throttle_burst_every=args.throttle_burst_every,
            throttle_burst_seconds=args.throttle_burst_seconds,
            spike_rate=args.spike_rate,
            spike_ms=args.spike_ms,
            seed_path=args.seed,
            random_seed=args.random_seed,
            removal_assumed_blockers=not args.documented_removal_rules,
            removal_patch_answer=args.removal_patch_answer,
            removed_customer_read=args.removed_customer_read,
            delegated_access_revoked=args.delegated_access_revoked,
            mfa_enforced=args.mfa_enforced,
            user_mfa=not args.no_user_mfa,
            azure_cancel_delay=timedelta(minutes=args.azure_cancel_delay_minutes),
        )
    except ValueError as exc:
        parser.error(str(exc))
    ssl_context = None
    if args.certfile:
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(args.certfile, args.keyfile)
    scheme = "https" if ssl_context else "http"
    logger.info(
        "Partner Center sandbox listening on %s://%s:%d (API %s://%s:%d/v1); demo identities: tenant=%s "
        "client_id=%s client_secret=%s refresh_token=%s partner_tenant_id=%s",
        scheme, args.host, args.port, scheme, args.host, args.port, DEMO.tenant,
        DEMO.client_id, DEMO.client_secret, DEMO.refresh_token, DEMO.partner_tenant_id,
    )  # fmt: skip
    web.run_app(
        create_sandbox_app(options=options),
        host=args.host,
        port=args.port,
        ssl_context=ssl_context,
        print=None,
        access_log=None,
    )


if __name__ == "__main__":
    main()
