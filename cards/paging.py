"""Pages of a long list of items: which slice to show, the "Items 21–40 of 1,000" line, the buttons.

Pages are 0-based in button data and 1-based in words. A page past the end shows the last page;
the page size is capped so that a page always fits in one Teams message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .adaptive import action, text
from .texts import t
from .verbs import Verb

__all__ = ("MAX_PAGE_SIZE", "Page", "page_actions", "page_of", "page_summary")

MAX_PAGE_SIZE = 25
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of ``total`` items.

    Attributes:
        index: the 0-based page number (already clamped to the pages that exist).
        size: items per page.
        total: items in the whole list.
    """

    index: int
    size: int
    total: int

    @property
    def count(self) -> int:
        """How many pages there are (at least one, even for an empty list)."""
        return max(1, -(-self.total // self.size))

    @property
    def start(self) -> int:
        return self.index * self.size

    @property
    def end(self) -> int:
        return min(self.start + self.size, self.total)

    @property
    def has_previous(self) -> bool:
        return self.index > 0

    @property
    def has_next(self) -> bool:
        return self.index + 1 < self.count

    def slice(self, items: Sequence[_T]) -> Sequence[_T]:
        return items[self.start : self.end]


def page_of(total: int, page: int, page_size: int) -> Page:
    size = min(max(1, page_size), MAX_PAGE_SIZE)
    last = max(0, -(-total // size) - 1)
    return Page(index=min(max(0, page), last), size=size, total=total)


def page_summary(page: Page, locale: str) -> dict[str, Any]:
    """The "Items 21–40 of 1,000 (page 2 of 50)" line."""
    return text(
        t(locale, "paging.items", first=page.start + 1, last=page.end, total=page.total, page=page.index + 1, pages=page.count),
        subtle=True,
        spacing="Medium",
    )


def page_actions(page: Page, verb: Verb, case_id: str, locale: str) -> list[dict[str, Any]]:
    """ "Previous page" and "Next page", each only where that page exists."""
    buttons = []
    if page.has_previous:
        buttons.append(action(t(locale, "paging.previous"), verb, {"caseId": case_id, "page": page.index - 1}))
    if page.has_next:
        buttons.append(action(t(locale, "paging.next"), verb, {"caseId": case_id, "page": page.index + 1}))
    return buttons
