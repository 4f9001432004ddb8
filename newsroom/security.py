"""Protections every request goes through: login throttling, the client's address, headers.

The policies themselves (limits, the Content-Security-Policy) live in settings.py;
this module holds the few pieces of code they need.
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for logins that come from a web request.

    A sign-in form always passes the request. Code that authenticates without one
    (a shell, a management command, the test client's `login()`) has no address
    to throttle, so the check steps aside and the next backend decides.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request):
    """The address a login attempt came from, as the throttle counts it.

    Behind NEWSROOM_PROXY_COUNT reverse proxies, each appending the address it saw to
    X-Forwarded-For, the client is that many entries from the right; anything further
    left was written by the client and is not trusted. With no proxy, REMOTE_ADDR.
    """
    proxies = settings.NEWSROOM_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


# Browser features the newsroom never uses; a script injected anyway cannot reach them.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "camera",
        "microphone",
        "geolocation",
        "payment",
        "usb",
    )
)


class SecurityHeadersMiddleware:
    """Usual headers Django's own middleware leaves out: Permissions-Policy everywhere, and
    X-Frame-Options on responses that never reach XFrameOptionsMiddleware (static files)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if not getattr(response, "xframe_options_exempt", False):
            response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        return response


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out sign-in gets: why, for how long, in Chinese and English."""
    from django.contrib import admin
    from django.template.response import TemplateResponse

    context = {
        **admin.site.each_context(request),
        "is_nav_sidebar_enabled": False,  # nothing to navigate before signing in
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    response = TemplateResponse(request, "security/lockout.html", context, status=429)
    return response.render()


class ProtectedDeleteMiddleware:
    """A delete refused because stories still use the thing becomes a message, not a 500.

    The admin's delete pages already check before deleting (see templatetags/where_used.py);
    this catches the rest: a story attached between the check and the delete, or any staff
    view whose delete hits a PROTECT foreign key.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.contrib import messages
        from django.db.models import ProtectedError, RestrictedError
        from django.shortcuts import redirect
        from django.utils.translation import gettext

        from newsroom.templatetags.where_used import describe_uses

        if not isinstance(exception, (ProtectedError, RestrictedError)):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_staff:
            return None
        blocking = getattr(exception, "protected_objects", None) or getattr(exception, "restricted_objects", ())
        messages.error(
            request,
            gettext("Nothing was deleted: it is still used by %(uses)s. Replace it there first.")
            % {"uses": describe_uses(blocking)},
        )
        return redirect(request.get_full_path())
