from django.apps import AppConfig
from django.db.models.signals import pre_save
from django.utils.translation import gettext_lazy as _


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = _("Stories")

    def ready(self):
        from .models import SearchEntry
        from .search import vector_follows_terms

        pre_save.connect(vector_follows_terms, sender=SearchEntry, dispatch_uid="search-vector-follows-terms")
        # A photo's original and renditions leave the media storage with it.
        from . import photo_files  # noqa: F401
        # Every tag gets a non-empty slug, however it is made (articles/tags.py).
        from . import tags  # noqa: F401
