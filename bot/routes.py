"""A table of handlers, each with the permission it needs, declared where the handler is.

In the spirit of the Microsoft 365 Agents SDK's ``action_execute(verb)``::

    clicks: Routes[Verb, ClickHandler] = Routes()

    @clicks.on(Verb.CONFIRM_REMOVAL, needs=Permission.CONFIRM, reads_case=True)
    async def confirm(self, turn_context, click, case, reply): ...

The router looks the handler up (:meth:`Routes.route`) and asks :meth:`Route.refusal` before it
runs it; a key nobody registered has no route, and a table missing a key it must have fails at
import (:meth:`Routes.covering`), not on a click.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from removal import RemovalCase
from removal.access import AccessPolicy, Member, Permission, Refusal

__all__ = ("Check", "Route", "Routes")

K = TypeVar("K", bound=Hashable)
H = TypeVar("H", bound=Callable[..., Any])

# A finer rule than a permission: (policy, who acts, the case it is about, the click or command)
# → why not, or None.
Check = Callable[[AccessPolicy, Member, RemovalCase | None, Any], Refusal | None]


@dataclass(frozen=True, slots=True)
class Route(Generic[H]):
    """One handler and what it needs.

    Attributes:
        handler: what runs once the access check passed.
        needs: the permission it needs, or a finer rule (:data:`Check`).
        reads_case: the check (and the handler) need the case the click or command is about.
    """

    handler: H
    needs: Permission | Check
    reads_case: bool = False

    def refusal(self, access: AccessPolicy, member: Member, case: RemovalCase | None, what: Any) -> Refusal | None:
        if isinstance(self.needs, Permission):
            return access.refusal(member, self.needs, case)
        return self.needs(access, member, case, what)


class Routes(Generic[K, H]):
    def __init__(self) -> None:
        self._routes: dict[K, Route[H]] = {}

    def on(self, key: K, *, needs: Permission | Check, reads_case: bool = False) -> Callable[[H], H]:
        """Register the decorated handler for ``key``."""

        def register(handler: H) -> H:
            self.add(key, handler, needs=needs, reads_case=reads_case)
            return handler

        return register

    def add(self, key: K, handler: H, *, needs: Permission | Check, reads_case: bool = False) -> None:
        if key in self._routes:
            raise ValueError(f"{key!r} is routed twice")
        self._routes[key] = Route(handler, needs, reads_case)

    def route(self, key: K) -> Route[H] | None:
        return self._routes.get(key)

    def covering(self, keys: Iterable[K]) -> Routes[K, H]:
        """This table, checked to route every one of ``keys``."""
        missing = [key for key in keys if key not in self._routes]
        if missing:
            raise LookupError(f"no route for {missing}")
        return self
