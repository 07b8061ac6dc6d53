"""Who may do what: the one place Offboard's permissions are decided (README: "Who may do what").

Pure rules, no botbuilder: the Teams edge establishes who is acting (:class:`Member`: their
Teams and Entra ids from the authenticated activity, their own tenant and role from Teams'
roster) and asks :meth:`AccessPolicy.refusal` before anything runs; a refusal is told to the
person in their language and audited, and nothing changes.

- Everyone must be a member of the partner's own tenant: guests (B2B) and external members of a
  shared channel are refused for everything, judged by the member's own tenant and role, not
  only by the conversation's tenant.
- Requesters may ``remove``, ``plan``, ``history``, ``notify here`` and cancel; approvers are
  always requesters. Anyone in the tenant may read ``help``, ``status`` and a case's pages.
- Approvers, matched by Entra object id only (never by e-mail or display name, which can be
  reassigned or chosen), decide items and confirm the removal.
- Four-eyes: the requester (who typed the command) cannot approve what cannot be undone —
  cancelling a subscription, an order or Azure subscriptions, accepting a transfer request —
  nor the final removal.
- Once a case has started changing Partner Center, only its requester or an approver may stop it.
- Protected customers (and the partner's own tenant) are never planned or removed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from .case import CaseItem, CaseState, Decision, Outcome, Person, RemovalCase

__all__ = ("AccessPolicy", "Member", "Permission", "Refusal", "same_person")


class Permission(StrEnum):
    VIEW = "view"  # help, status, a case's pages
    REQUEST = "request"  # remove, plan, history, notify here, choosing the customer
    CANCEL = "cancel"  # a case's cancel button, typed cancel
    DECIDE = "decide"  # approve or skip an item, approve all
    CONFIRM = "confirm"  # the final removal


class Refusal(StrEnum):
    """Why a person was refused; the value is the audit action."""

    TENANT = "refused.tenant"
    GUEST = "refused.guest"
    UNVERIFIED = "refused.unverified"
    NOT_REQUESTER = "refused.not_requester"
    NOT_APPROVER = "refused.not_approver"
    FOUR_EYES = "refused.four_eyes"
    NOT_CANCELLER = "refused.not_canceller"
    PROTECTED = "refused.protected_customer"
    NOT_THE_REQUESTER = "refused.not_the_requester"  # someone else answering the requester's question


@dataclass(frozen=True, slots=True)
class Member:
    """Who is acting. ``tenant_id`` and ``role`` come from Teams' roster ("" when it could not
    be read); Teams' roles are ``user``, ``guest`` and ``anonymous``."""

    person: Person
    tenant_id: str = ""
    role: str = ""


def same_person(one: Person, other: Person) -> bool:
    """By Entra object id when both have one (Teams always sends it for users), else by Teams id."""
    if one.aad_object_id and other.aad_object_id:
        return one.aad_object_id.lower() == other.aad_object_id.lower()
    return bool(one.id) and one.id == other.id


# A case that has reached one of these, or has carried out an item, has changed Partner Center.
_UNDER_WAY = frozenset({CaseState.EXECUTING, CaseState.PAUSED, CaseState.REMOVING})


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """Attributes:
    approvers: Entra object ids (lower case); empty = every member may approve, unless
        ``approvers_required`` (live mode: then nobody may).
    requesters: Entra object ids that may request (approvers are added by the settings);
        None = every member.
    four_eyes: irreversible decisions and the final removal need someone other than the requester.
    tenant_id: the partner's Entra tenant; activities and members of any other are refused ("" = any).
    protected_customers: customer tenant ids never planned or removed.
    verified_members_only: a member whose role and tenant Teams' roster cannot confirm is refused
        (live mode); on the sandbox an unreadable roster lets them through.
    """

    approvers: frozenset[str] = frozenset()
    requesters: frozenset[str] | None = None
    four_eyes: bool = False
    tenant_id: str = ""
    protected_customers: frozenset[str] = frozenset()
    verified_members_only: bool = False
    approvers_required: bool = False

    # ---- Questions the edge asks ----

    def tenant_allowed(self, tenant_id: str) -> bool:
        return not self.tenant_id or tenant_id.lower() == self.tenant_id.lower()

    def member_refusal(self, member: Member) -> Refusal | None:
        """A guest or an external member is refused for everything; so is someone Teams cannot
        vouch for in live mode."""
        if member.role and member.role.lower() != "user":
            return Refusal.GUEST
        if member.tenant_id and not self.tenant_allowed(member.tenant_id):
            return Refusal.GUEST
        if self.verified_members_only and not (member.role and member.tenant_id):
            return Refusal.UNVERIFIED
        return None

    def refusal(self, member: Member, permission: Permission, case: RemovalCase | None = None) -> Refusal | None:
        """Whether ``member`` may do ``permission`` (on ``case``); None when they may."""
        refused = self.member_refusal(member)
        if refused is not None or permission is Permission.VIEW:
            return refused
        person = member.person
        if case is not None and self.is_protected(case.customer.id) and permission is not Permission.CANCEL:
            return Refusal.PROTECTED
        if permission is Permission.REQUEST:
            return None if self.is_requester(person) else Refusal.NOT_REQUESTER
        if permission is Permission.CANCEL:
            if case is not None and self._under_way(case):
                # Stopping a case mid-way leaves the customer half-offboarded: its owner or an approver.
                mine = same_person(person, case.requested_by)
                return None if mine or (self.approvers and self.is_approver(person)) else Refusal.NOT_CANCELLER
            return None if self.is_requester(person) else Refusal.NOT_REQUESTER
        if not self.is_approver(person):
            return Refusal.NOT_APPROVER
        if permission is Permission.CONFIRM and case is not None and not self.may_confirm_removal(person, case):
            return Refusal.FOUR_EYES
        return None

    def decision_refusal(self, member: Member, case: RemovalCase, item: CaseItem, *, approve: bool) -> Refusal | None:
        """Approving or skipping one item: an approver; under four-eyes, not the requester for
        an item that cannot be undone (skipping changes nothing in Partner Center)."""
        refused = self.refusal(member, Permission.DECIDE, case)
        if refused is None and approve and item.irreversible and self._four_eyes_applies(member.person, case):
            return Refusal.FOUR_EYES
        return refused

    def transfer_refusal(self, member: Member, case: RemovalCase | None, *, accept: bool) -> Refusal | None:
        """Accepting or rejecting an outgoing transfer request: an approver, as for an item; under
        four-eyes, not the requester for an acceptance, which moves the subscriptions (and their
        billing) to the other partner for good, as a cancellation cannot be undone. A rejection
        declines the other partner's request, which it can create again: it is guarded as a skip."""
        refused = self.refusal(member, Permission.DECIDE, case)
        if refused is None and accept and case is not None and self._four_eyes_applies(member.person, case):
            return Refusal.FOUR_EYES
        return refused

    def approve_all_filter(self, person: Person, case: RemovalCase) -> Callable[[CaseItem], bool] | None:
        """Which pending items "approve all" approves when ``person`` clicks it (None: all):
        under four-eyes the requester's click leaves the irreversible ones to a second approver."""
        if self._four_eyes_applies(person, case):
            return lambda item: not item.irreversible
        return None

    def approves_nothing(self, person: Person, case: RemovalCase) -> bool:
        """ "Approve all" by ``person`` would approve none of the pending items (four-eyes)."""
        only = self.approve_all_filter(person, case)
        pending = [item for item in case.to_decide if item.decision is Decision.PENDING]
        return bool(pending) and only is not None and not any(only(item) for item in pending)

    def is_approver(self, person: Person) -> bool:
        if not self.approvers:
            return not self.approvers_required
        return bool(person.aad_object_id) and person.aad_object_id.lower() in self.approvers

    def is_requester(self, person: Person) -> bool:
        if self.requesters is None:
            return True
        return bool(person.aad_object_id) and (
            person.aad_object_id.lower() in self.requesters or (bool(self.approvers) and self.is_approver(person))
        )

    def may_confirm_removal(self, person: Person, case: RemovalCase) -> bool:
        """Four-eyes: the requester cannot also give the final confirmation."""
        return not self._four_eyes_applies(person, case)

    def is_protected(self, customer_id: str) -> bool:
        return customer_id.lower() in self.protected_customers

    # ---- Rules ----

    def _four_eyes_applies(self, person: Person, case: RemovalCase) -> bool:
        return self.four_eyes and same_person(person, case.requested_by)

    @staticmethod
    def _under_way(case: RemovalCase) -> bool:
        return case.state in _UNDER_WAY or any(item.outcome is Outcome.DONE for item in case.items)
