from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    """Getting pages to readers: the page cache, static publishing and CDN purges."""

    name = "delivery"
    verbose_name = _("Delivery")
