"""Who may do what: approvers, the four-eyes rule, and the partner's own tenant.

Pure rules; the Teams edge supplies the person (Teams id, Entra object id, UPN when it looked it
up) and the tenant the activity came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from .case import Person, RemovalCase

__all__ = ("AccessPolicy",)


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """Attributes:
    approvers: Entra object ids and/or UPNs (lower case); empty = every member may approve.
    four_eyes: the final removal needs an approver other than the requester.
    tenant_id: the partner's Entra tenant; activities from any other are refused ("" = any).
    """

    approvers: frozenset[str] = frozenset()
    four_eyes: bool = False
    tenant_id: str = ""

    @property
    def needs_upn(self) -> bool:
        return any("@" in approver for approver in self.approvers)

    def is_approver(self, person: Person, *, upn: str = "") -> bool:
        if not self.approvers:
            return True
        candidates = {person.aad_object_id.lower(), upn.lower()} - {""}
        return bool(candidates & self.approvers)

    def may_confirm_removal(self, person: Person, case: RemovalCase) -> bool:
        """Four-eyes: the requester cannot also give the final confirmation."""
        return not self.four_eyes or person.id != case.requested_by.id

    def tenant_allowed(self, tenant_id: str) -> bool:
        return not self.tenant_id or tenant_id.lower() == self.tenant_id.lower()
