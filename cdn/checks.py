"""`manage.py check` says plainly when the CDN settings cannot work."""

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from . import conf


@register()
def cdn_settings(app_configs, **kwargs):
    try:
        conf.config()
    except ImproperlyConfigured as error:
        return [Error(str(error), hint="See docs/deploy/cdn.md.", id="cdn.E001")]
    return []
