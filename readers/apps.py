from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReadersConfig(AppConfig):
    """The readers' site: home, sections, stories, tags, people, search, feeds, sitemaps."""

    name = "readers"
    verbose_name = _("Readers' site")

    def ready(self):
        # Declares every public page in delivery.registry (static publishing, sitemaps, purges).
        from . import pages  # noqa: F401
