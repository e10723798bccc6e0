"""A pull as one stream of pages: the round trips of a first sync on a slow link, saved.

Each page is an ordinary pull page (`Puller.pull`), read in its own transaction as if the
client had asked for it: the stream only chains them, so paging, cursors and their
guarantees stay exactly those of the plain pull (ADR 0025). A bounded number of pages per
stream keeps a server thread from being held by one phone for long; the last page says
`has_more` as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .page import PullResult
from .pull import Puller


def pull_pages(
    puller: Puller,
    cursor: str | None,
    limit: int | None,
    max_pages: int,
    between: Callable[[], None] = lambda: None,
) -> Iterator[PullResult]:
    """Pages after `cursor` until `has_more` is false or `max_pages` were read.

    `between` runs after each page (the server ends the page's transaction there, as after
    a pull request), before the next is read.
    """
    for _ in range(max_pages):
        page = puller.pull(cursor, limit)
        between()
        yield page
        if not page.has_more:
            return
        cursor = page.cursor
