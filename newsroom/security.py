"""Protections every request goes through: login throttling, the client's address, headers.

The policies themselves (limits, the Content-Security-Policy) live in settings.py;
this module holds the few pieces of code they need.
"""

from axes.backends import AxesStandaloneBackend
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpResponse


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


# Attributes through which a view or decorator gives a response a policy of its own (django-csp).
_OWN_POLICY = (
    "_csp_config", "_csp_update", "_csp_replace", "_csp_exempt",
    "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro", "_csp_exempt_ro",
)
_POLICY_SETTINGS = {"CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY", "DEBUG"}


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the site-wide policy written once rather than per response.

    Most responses (every reader's page) carry the policy exactly as settings.py writes it: no
    nonce was asked for and no view changed the policy. django-csp builds that header anew
    each time; here it is built once, by django-csp itself, and copied onto each such
    response. A response that used a nonce (the admin), carries a policy of its own, or meets
    URL exclusions or DEBUG's error pages goes through django-csp unchanged.
    """

    _site_wide = {}  # header name -> value, as django-csp writes them on a plain response

    def process_response(self, request, response):
        if (
            settings.DEBUG
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _OWN_POLICY)
            or _excludes_urls()
        ):
            return super().process_response(request, response)
        headers = self._site_wide
        if not headers:
            # django-csp writes the headers of a plain response; this also puts its guard on
            # request.csp_nonce, as for every response it handles.
            plain = super().process_response(request, HttpResponse())
            headers = {name: plain[name] for name in (HEADER, HEADER_REPORT_ONLY) if name in plain}
            ContentSecurityPolicyMiddleware._site_wide = headers
        else:
            # What django-csp does last: a nonce asked for from now on is an error, not a
            # nonce missing from the header.
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        for name, value in headers.items():
            if name not in response:
                response[name] = value
        return response


def _excludes_urls():
    return any(
        (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES")
        for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
    )


def _forget_site_wide_policy(*, setting, **kwargs):
    if setting in _POLICY_SETTINGS:
        ContentSecurityPolicyMiddleware._site_wide = {}


setting_changed.connect(_forget_site_wide_policy, dispatch_uid="newsroom.security.csp")


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
