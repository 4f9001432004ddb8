"""manage.py rebuild_search_index: (re)write the search terms of every story.

Saving a story keeps its terms current; stories written in bulk (bulk_create, raw SQL,
restored dumps) announce no change and need this once afterwards. --missing only fills
stories that have no terms yet.
"""

from django.core.management.base import BaseCommand
from django.db import connection
from django.db.models import Q

from articles.models import Article
from articles.search import index_article
from delivery import cache as page_cache
from delivery.registry import SEARCH


class Command(BaseCommand):
    help = "Rewrite the readers' search index (segmented terms) for every story."

    def add_arguments(self, parser):
        parser.add_argument("--missing", action="store_true", help="only stories not indexed yet")

    def handle(self, *args, missing=False, **options):
        stories = Article.objects.order_by("pk")
        if missing:
            # On PostgreSQL also rows without a vector (written by bulk_create or a restore
            # from SQLite, whose rows carry none): search reads only the vector there.
            lacking = Q(search_entry__isnull=True)
            if connection.vendor == "postgresql":
                lacking |= Q(search_entry__search_vector__isnull=True)
            stories = stories.filter(lacking)
        done = 0
        for article in stories.iterator(chunk_size=500):
            index_article(article)
            done += 1
            if done % 5000 == 0:
                self.stdout.write(f"{done} stories indexed…")
        page_cache.invalidate({SEARCH})
        self.stdout.write(self.style.SUCCESS(f"Indexed {done} stories."))
