from django.apps import AppConfig
from django.db.models.signals import pre_save
from django.utils.translation import gettext_lazy as _


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = _("Stories")

    def ready(self):
        # Page-cache invalidation and search indexing follow model signals.
        from . import dependencies  # noqa: F401
        from .models import SearchEntry
        from .search import vector_follows_terms

        pre_save.connect(vector_follows_terms, sender=SearchEntry, dispatch_uid="search-vector-follows-terms")
        # Static publishing listens to dependencies.public_urls_changed (idle when off).
        from . import static_publish  # noqa: F401
        # A photo's original and renditions leave the media storage with it.
        from . import photo_files  # noqa: F401
