"""Turn application errors raised by services and selectors into HTTP responses."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from sogla.core.errors import NotFound, PermissionDenied

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    """The 403 page with the service's message."""
    return render(request, "403.html", {"message": message}, status=403)


def app_errors(view: View) -> View:
    """NotFound becomes 404 ("Not found or no access"); PermissionDenied a 403 page."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(str(error.message)) from None
        except PermissionDenied as error:
            return forbidden(request, str(error.message))

    return cast(View, wrapper)
