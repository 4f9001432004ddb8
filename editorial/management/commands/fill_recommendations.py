"""Fill the empty 推荐阅读 slots of live stories now (editorial.recommendations).

Stories fill their slots when they are published or changed; this catches up the others: an
archive imported before filling existed, or a section whose desk has just allowed it beyond
the newest stories filled at once. Newest first, a hundred stories a transaction: short enough
to hold few locks, long enough that the lists they share are delivered once per hundred.
"""

from django.core.management.base import BaseCommand

from articles.events import Placement, StoryChanged, announce, together
from articles.models import Article
from editorial import recommendations

STORIES_TOGETHER = 100


class Command(BaseCommand):
    help = "Fill the empty 推荐阅读 slots of live stories (newest first), with the reason of each."

    def add_arguments(self, parser):
        parser.add_argument("--section", help="only the stories of the section with this slug")
        parser.add_argument("--limit", type=int, default=None, help="at most this many stories")

    def handle(self, *args, section=None, limit=None, **options):
        stories = Article.objects.published().order_by("-published_at", "-pk")
        if section:
            stories = stories.filter(section__slug=section)
        ids = list(stories.values_list("pk", flat=True)[:limit])
        changed = 0
        # STORIES_TOGETHER stories a transaction, delivered together: a page several of them are
        # on (home, a section) is rendered once per transaction, not once per story.
        for start in range(0, len(ids), STORIES_TOGETHER):
            with together():
                for pk in ids[start : start + STORIES_TOGETHER]:
                    story = Article.objects.get(pk=pk)
                    if recommendations.fill(story):
                        changed += 1
                        # Its page shows another block now: delivery refreshes it (filling again finds nothing to do).
                        placement = Placement.of(story)
                        announce(StoryChanged(story_id=pk, what="recommendations", before=placement, after=placement))
        self.stdout.write(f"{len(ids)} stories read, {changed} blocks filled anew.")
