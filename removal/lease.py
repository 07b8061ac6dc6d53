"""Leases: at most one bot instance works on a case at a time, and a dead one's work is taken over.

A lease is a small document ``leases/{case id}`` = ``{"owner", "seconds", "expires"}`` written with
ETags. The holder renews it while it works (every third of its duration): each renewal is a
write, so the document gets a new ETag. When an instance dies its lease stops changing, and the
next instance to look takes the case over.

No instance compares a time of its own with a time another instance wrote: clocks of different
machines disagree (a skew of tens of seconds would let an instance take a live lease). An
instance judges a lease by what it saw itself: a lease is expired once *this* instance has
watched the same version (the same ETag) for the lease's whole duration, measured on its own
monotonic clock. Only the rate of the clocks matters, not their setting (Kubernetes' leader
election, client-go's ``leaderelection``, works the same way). The cost: an instance that has
just started waits one lease duration before taking over a dead one's case. ``expires`` (wall
clock) is written for people reading the store and for older versions during an upgrade;
nothing here trusts it.

The holder, for its part, treats its lease as lost (:attr:`Lease.lost`) when it has not
confirmed it (a renewal written) for three quarters of its duration, measured from the moment
it sent the last renewal that succeeded: a renewal stuck in a slow storage request stops the
work before another instance can take the lease over, and a renewal that fails stops it at once.

Within one instance a lease is held once: the stored lease names the instance, not the task, so
two tasks of the same instance (a click's work and the periodic resume sweep that saw the case
before the click's task took its lease) would otherwise both get it and do the work twice.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from storage import DocumentStore, PreconditionFailed, Stored

__all__ = ("Lease", "LeaseTaken", "Leases")

_log = logging.getLogger(__name__)

# A holder trusts its lease for this share of the duration after its last confirmed renewal;
# another instance waits the whole duration after first seeing that version. The gap is the margin.
_TRUSTED_SHARE = 0.75


class LeaseTaken(Exception):
    """Another live instance holds the case."""


class Lease:
    """A held lease; ``lost`` turns true if renewing it failed or has not been confirmed in time
    (stop starting new work, and send nothing irreversible)."""

    def __init__(self, case_id: str, *, trusted_for: float = math.inf, clock: Callable[[], float] = time.monotonic) -> None:
        self.case_id = case_id
        self._trusted_for = trusted_for
        self._clock = clock
        self._trusted_until = clock() + trusted_for
        self._lost = False

    @property
    def lost(self) -> bool:
        # Once lost, lost for good: a renewal confirmed late must not make work that already
        # stopped (items left not started) look as if it had gone on.
        if not self._lost and self._clock() >= self._trusted_until:
            self._lost = True
        return self._lost

    @lost.setter
    def lost(self, value: bool) -> None:
        self._lost = value

    def confirmed(self, sent_at: float) -> None:
        """A renewal sent at ``sent_at`` (this lease's clock) was written."""
        self._trusted_until = max(self._trusted_until, sent_at + self._trusted_for)


class Leases:
    """The leases of one instance (``owner``) on one store.

    :param seconds: how long a lease lasts without renewal.
    :param clock: this instance's clock for measuring how long it has watched a lease (monotonic
        by default; tests move a fake one). Never compared with another instance's.
    """

    def __init__(self, documents: DocumentStore, *, owner: str, seconds: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._documents = documents
        self.owner = owner
        self.seconds = seconds
        self._clock = clock
        self._held: set[str] = set()  # cases a task of this instance holds now
        # case id -> (ETag of another instance's lease, when this instance first saw that ETag)
        self._watched: dict[str, tuple[str, float]] = {}

    async def is_free(self, case_id: str) -> bool:
        if case_id in self._held:
            return False
        stored = await self._documents.read(self._key(case_id))
        if stored is None:
            self._watched.pop(case_id, None)
            return True
        return stored.document.get("owner") == self.owner or self._expired(case_id, stored)

    async def acquire(self, case_id: str) -> bool:
        """Take the lease if it is free, expired (as this instance saw it) or already ours."""
        key = self._key(case_id)
        document = {"owner": self.owner, "seconds": self.seconds, "expires": time.time() + self.seconds}
        stored = await self._documents.read(key)
        try:
            if stored is None:
                await self._documents.write(key, document, if_none_match=True)
            elif stored.document.get("owner") == self.owner or self._expired(case_id, stored):
                await self._documents.write(key, document, if_match=stored.etag)
            else:
                return False
        except PreconditionFailed:
            return False  # another instance got there first (or the holder renewed meanwhile)
        self._watched.pop(case_id, None)
        return True

    async def release(self, case_id: str) -> None:
        self._watched.pop(case_id, None)
        stored = await self._documents.read(self._key(case_id))
        if stored is not None and stored.document.get("owner") == self.owner:
            try:
                await self._documents.delete(self._key(case_id), if_match=stored.etag)
            except PreconditionFailed:
                pass  # taken over after expiring: no longer ours to release

    @asynccontextmanager
    async def hold(self, case_id: str) -> AsyncIterator[Lease]:
        """Hold the case's lease for the block, renewing it in the background.

        :raises LeaseTaken: another live instance, or another task of this one, holds it.
        """
        if case_id in self._held:
            raise LeaseTaken(case_id)
        self._held.add(case_id)  # before any await: a second task of ours now sees it taken
        try:
            lease = Lease(case_id, trusted_for=self.seconds * _TRUSTED_SHARE, clock=self._clock)
            if not await self.acquire(case_id):
                raise LeaseTaken(case_id)
        except BaseException:
            self._held.discard(case_id)
            raise
        renewer = asyncio.create_task(self._renew(lease), name=f"lease {case_id}")
        try:
            yield lease
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
            try:
                await self.release(case_id)
            finally:
                self._held.discard(case_id)

    async def _renew(self, lease: Lease) -> None:
        while True:
            await asyncio.sleep(self.seconds / 3)
            sent_at = self._clock()
            try:
                renewed = await self.acquire(lease.case_id)
            except Exception:  # storage unreachable: the lease may expire; stop before it does  # noqa: BLE001
                _log.exception("could not renew the lease on case %s", lease.case_id)
                renewed = False
            if not renewed:
                _log.warning("lost the lease on case %s: stopping work on it", lease.case_id)
                lease.lost = True
                return
            lease.confirmed(sent_at)

    def _expired(self, case_id: str, stored: Stored) -> bool:
        """Whether this instance has watched this version of another's lease for its duration."""
        now = self._clock()
        watched = self._watched.get(case_id)
        if watched is None or watched[0] != stored.etag:
            self._watched[case_id] = (stored.etag, now)  # renewed since, or new to us: watch from now
            return False
        seconds = stored.document.get("seconds")
        duration = float(seconds) if isinstance(seconds, (int, float)) else self.seconds
        return now - watched[1] >= duration

    @staticmethod
    def _key(case_id: str) -> str:
        return f"leases/{case_id}"
