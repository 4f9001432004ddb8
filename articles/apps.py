from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = _("Stories")

    def ready(self):
        # Page-cache invalidation and search indexing follow model signals.
        from . import dependencies  # noqa: F401
        # Static publishing listens to dependencies.public_urls_changed (idle when off).
        from . import static_publish  # noqa: F401
        # A photo's original and renditions leave the media storage with it.
        from . import photo_files  # noqa: F401
