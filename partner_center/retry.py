"""When and how long to wait before retrying a Partner Center call.

The policy (../shared/reference/partner-center-api.md §9):

- 429: wait ``Retry-After``; if throttled again, back off exponentially with jitter on top of it;
- 5xx, timeouts, broken connections: exponential backoff with jitter, retried with the *same*
  ``MS-RequestId`` (Partner Center's idempotency key) — the client keeps the id per call;
- any other 4xx: never retried here (the caller decides; a stale ETag is re-read by the operation);
- 409 while Partner Center processes a renewal: the subscription write waits
  ``renewal_wait_seconds`` and resubmits, at most ``renewal_resubmits`` times ("Partners can
  resubmit the request after waiting for two minutes", learn.microsoft.com/partner-center/
  create-a-new-subscription § Applying changes during renewal processing).

Retries run through stamina (``retry_context`` with a backoff hook). Tests keep the retries and
shorten the waits instead: they pass a policy with millisecond backoffs (``FAST_RETRY`` in
``tests/_helpers.py``), or hand the app's ``connect`` one (``tests/bot/test_hardening.py``), so a
429's ``Retry-After`` is still honoured.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stamina

from .errors import ThrottledError, UnavailableError

__all__ = ("RetryPolicy",)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attributes:
    attempts: tries per call, the first included.
    timeout_seconds: give up retrying after this long (per call).
    wait_initial: first backoff for 5xx/timeouts, seconds.
    wait_max: longest single backoff, seconds.
    wait_jitter: up to this many random seconds added to each backoff.
    renewal_wait_seconds: wait before resubmitting a subscription write answered 409 while a
        renewal is processed (Microsoft: "after waiting for two minutes"; short in tests).
    renewal_resubmits: resubmissions after such a 409 before giving up (bounds the total wait
        to ``renewal_wait_seconds * renewal_resubmits``; the count is an assumption).
    """

    attempts: int = 8
    timeout_seconds: float = 300.0
    wait_initial: float = 0.5
    wait_max: float = 30.0
    wait_jitter: float = 1.0
    renewal_wait_seconds: float = 120.0
    renewal_resubmits: int = 5

    def attempts_for_call(self) -> Any:
        """A fresh retry loop for one logical call (its own 429 count)."""
        return stamina.retry_context(
            on=self._backoff_hook(),
            attempts=self.attempts,
            timeout=self.timeout_seconds,
            wait_initial=self.wait_initial,
            wait_max=self.wait_max,
            wait_jitter=self.wait_jitter,
        )

    def _backoff_hook(self) -> Callable[[Exception], bool | float]:
        throttled = 0

        def hook(error: Exception) -> bool | float:
            nonlocal throttled
            if isinstance(error, ThrottledError):
                throttled += 1
                extra = 0.0 if throttled == 1 else min(self.wait_max, self.wait_initial * 2 ** (throttled - 2))
                # A 429 without a usable Retry-After still must not be retried at once.
                wait = max(error.retry_after, 0.0) + extra or self.wait_initial
                return wait + random.uniform(0, self.wait_jitter)
            return isinstance(error, UnavailableError)

        return hook
