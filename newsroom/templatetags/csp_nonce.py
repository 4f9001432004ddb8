"""Give a form's media this request's Content-Security-Policy nonce.

The rich-text editor's widget ships an import map, an inline <script> the policy only
runs when it carries the nonce. On Django 5.2 the admin renders `{{ media }}` without
one, so the admin templates that print media pass it through `with_csp_nonce`.
"""

from django import template

register = template.Library()


@register.filter
def with_csp_nonce(media, request):
    """`media` carrying the request's nonce, when the media knows how (django-js-asset)."""
    nonce = getattr(request, "csp_nonce", None)
    if nonce is None or not hasattr(media, "with_nonce"):
        return media
    return media.with_nonce(str(nonce))
