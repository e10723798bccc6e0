"""The managers' web pages: `/map` and `/dashboard` (HTML, JS and CSS; not part of the API)."""
