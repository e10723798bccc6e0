"""Markers a view carries, read by the request hooks (no registries keyed by endpoint names).

- `public`: no access token needed (sign-in, probes, pages, their files).
- `unmetered`: never turned away by the overload gate (probes, static files).
- `on_ended_session(keep)`: what to keep of a request whose device session has
  ended, before it is refused (a revoked phone's push goes to the conflict log).
- `checks_values_per_mutation`: the body's values are validated mutation by
  mutation (the pushes), so `server/input_guard.py` does not refuse the whole
  request for one bad text: that would block the phone's outbox on every retry.
- `heavy`: planning, KPIs, whole-scope GeoJSON: each user runs a few at once at most
  (`server/fairness.py`), so one user cannot take every worker's slots.

A MethodView carries a marker on the class (every method) or on one method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request

PUBLIC = "fieldsync_public"
UNMETERED = "fieldsync_unmetered"
ON_ENDED_SESSION = "fieldsync_on_ended_session"
PER_MUTATION = "fieldsync_per_mutation"
HEAVY = "fieldsync_heavy"


def public(view: Callable) -> Callable:
    setattr(view, PUBLIC, True)
    return view


def unmetered(view: Callable) -> Callable:
    setattr(view, UNMETERED, True)
    return view


def checks_values_per_mutation(view: Callable) -> Callable:
    setattr(view, PER_MUTATION, True)
    return view


def heavy(view: Callable) -> Callable:
    setattr(view, HEAVY, True)
    return view


def on_ended_session(keep: Callable[..., None]) -> Callable[[Callable], Callable]:
    def mark(view: Callable) -> Callable:
        setattr(view, ON_ENDED_SESSION, keep)
        return view

    return mark


def marker(name: str, default: Any = None) -> Any:
    """The marker on the view of the current request (MethodViews: on the class or the
    request's method)."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None:
        return default
    found = getattr(view, name, None)
    view_class = getattr(view, "view_class", None)
    if found is None and view_class is not None:
        found = getattr(view_class, name, None)
        if found is None:
            method = getattr(view_class, request.method.lower(), None)
            found = getattr(method, name, None)
    return default if found is None else found


def mark_blueprint(app: Flask, blueprint: str, *markers: Callable[[Callable], Callable]) -> None:
    """Mark every view of a library's blueprint (flask-smorest's API document and viewer)."""
    prefix = f"{blueprint}."
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith(prefix):
            app.view_functions[endpoint] = _marked(view, markers)


def _marked(view: Callable, markers: tuple[Callable[[Callable], Callable], ...]) -> Callable:
    """A function that calls `view` and carries the markers (a bound method cannot)."""

    def marked_view(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    for mark in markers:
        mark(marked_view)
    return marked_view
