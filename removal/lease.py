"""Leases: at most one bot instance works on a case at a time, and a dead one's work is taken over.

A lease is a small document ``leases/{case id}`` = ``{"owner", "expires"}`` written with ETags.
The holder renews it while it works (every third of its duration); when an instance dies, its
lease expires and the next sweep of any instance takes the case over. Expiry uses the wall clock
(``time.time``), never the sandbox's movable clock: instances on one store must agree on it.

Within one instance a lease is held once: the stored lease names the instance, not the task, so
two tasks of the same instance (a click's work and the periodic resume sweep that saw the case
before the click's task took its lease) would otherwise both get it and do the work twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable

from storage import DocumentStore, PreconditionFailed

__all__ = ("Lease", "LeaseTaken", "Leases")

_log = logging.getLogger(__name__)


class LeaseTaken(Exception):
    """Another live instance holds the case."""


class Lease:
    """A held lease; ``lost`` turns true if renewing it failed (stop starting new work)."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        self.lost = False


class Leases:
    def __init__(
        self, documents: DocumentStore, *, owner: str, seconds: float = 60.0, clock: Callable[[], float] = time.time
    ) -> None:
        self._documents = documents
        self.owner = owner
        self.seconds = seconds
        self._clock = clock
        self._held: set[str] = set()  # cases a task of this instance holds now

    async def is_free(self, case_id: str) -> bool:
        if case_id in self._held:
            return False
        stored = await self._documents.read(self._key(case_id))
        return stored is None or stored.document["expires"] <= self._clock()

    async def acquire(self, case_id: str) -> bool:
        """Take the lease if it is free, expired or already ours."""
        key = self._key(case_id)
        document = {"owner": self.owner, "expires": self._clock() + self.seconds}
        stored = await self._documents.read(key)
        try:
            if stored is None:
                await self._documents.write(key, document, if_none_match=True)
            elif stored.document["owner"] == self.owner or stored.document["expires"] <= self._clock():
                await self._documents.write(key, document, if_match=stored.etag)
            else:
                return False
        except PreconditionFailed:
            return False  # another instance got there first
        return True

    async def release(self, case_id: str) -> None:
        stored = await self._documents.read(self._key(case_id))
        if stored is not None and stored.document["owner"] == self.owner:
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
            if not await self.acquire(case_id):
                raise LeaseTaken(case_id)
        except BaseException:
            self._held.discard(case_id)
            raise
        lease = Lease(case_id)
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
            try:
                renewed = await self.acquire(lease.case_id)
            except Exception:  # storage unreachable: the lease may expire; stop before it does
                _log.exception("could not renew the lease on case %s", lease.case_id)
                renewed = False
            if not renewed:
                _log.warning("lost the lease on case %s: stopping work on it", lease.case_id)
                lease.lost = True
                return

    @staticmethod
    def _key(case_id: str) -> str:
        return f"leases/{case_id}"
