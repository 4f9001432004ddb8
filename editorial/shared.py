"""Things many pages print (a photo, a person, a tag, a section, an outlet): which stories
print each, and the announcement the desk makes when one of them changes.

A photo or a person is stored once and printed on every story that uses it, so editing it
through one story (a caption in the photo inline) or in its own admin changes the pages of
all of them. Whoever changes one calls `announce_shared_change` inside the transaction that
changes it; the SharedChanged it announces names the stories printing the thing, so
delivery refreshes exactly their pages. Sections and outlets are printed in every page's
navigation and cards: their events carry no stories and are site-wide.
"""

from django.db.models import Q

from articles.events import SharedChanged, announce
from articles.models import Article, ArticleImage, Byline, TopicStory


def stories_printing_image(pk):
    """Stories showing the photo: in their photos, or as their list thumbnail."""
    ids = set(ArticleImage.objects.filter(image_id=pk).values_list("article_id", flat=True))
    ids |= set(Article.objects.filter(thumbnail_id=pk).values_list("pk", flat=True))
    return ids


def stories_printing_person(pk):
    """Stories crediting the person in a byline or naming them as 初审编辑 or 责任编辑."""
    ids = set(Byline.objects.filter(person_id=pk).values_list("article_id", flat=True))
    editors = Q(first_review_editor_id=pk) | Q(responsible_editor_id=pk)
    ids |= set(Article.objects.filter(editors).values_list("pk", flat=True))
    return ids


def stories_tagged(pk):
    return set(Article.objects.filter(tags__pk=pk).values_list("pk", flat=True))


def stories_in_topic(pk):
    """The stories a 专题 collects: each page names the topic (readers.topics)."""
    return set(TopicStory.objects.filter(topic_id=pk).values_list("article_id", flat=True))


STORIES_PRINTING = {
    "image": stories_printing_image,
    "person": stories_printing_person,
    "tag": stories_tagged,
    "topic": stories_in_topic,
}


def stories_printing(kind, pk):
    """The ids of the stories printing the thing; none for the site-wide kinds (section, outlet)."""
    find = STORIES_PRINTING.get(kind)
    return find(pk) if find else set()


def announce_shared_change(kind, pk, *, what="edit", story_ids=None, slugs=(), image_ids=()):
    """Announce that the thing changed. `story_ids` defaults to the stories printing it now;
    pass those that printed it before as well when the change moves it off some of them (a
    deletion, a tag merged away). `slugs` are its address parts before and after; `image_ids`
    the photos it shows before and after whose visibility follows it (a topic's lead image)."""
    if story_ids is None:
        story_ids = stories_printing(kind, pk)
    return announce(
        SharedChanged(
            kind=kind,
            pk=pk,
            what=what,
            story_ids=tuple(sorted(set(story_ids))),
            slugs=tuple(dict.fromkeys(slug for slug in slugs if slug)),
            image_ids=tuple(sorted(set(image_ids))),
        )
    )
