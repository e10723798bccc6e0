"""What the browser tests share outside their fixtures."""

from __future__ import annotations


def watch_errors(page, into: list[str] | None = None) -> list[str]:
    """The page's uncaught exceptions and Content-Security-Policy refusals, as they happen:
    a page that works but breaks its policy or throws must still fail its test. `into`:
    add them to a list already watching another page."""
    errors: list[str] = [] if into is None else into
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return errors
