"""The one door for saving a story's content: the admin's change form with its inlines, and a
restored version, both go through `save_story`.

`save_story(article, apply, *, actor, ...)` runs, in one transaction:

1. lock the story's row and check the version the edit started from (a stale one raises
   revisions.EditConflict and changes nothing);
2. note where the story stands on the public site (`before`, read from the stored row:
   the admin's in-memory story already carries the form's values);
3. keep the story as it was if it has no version yet, and give it the next version number;
4. if the story is published, record its note through the workflow: a public correction
   (更正, printed under the story), an internal note (kept in its history only), or both;
   refused without either note or by the wrong person, and then nothing is kept;
5. call `apply(article)`, which writes the change (the form and its inlines, a snapshot);
6. append the Revision of the result;
7. announce one StoryChanged (`before`, `after`, content_changed=True) to the subscribers.

A new story (no primary key yet) skips the lock, the check and the baseline: it starts at
version 1 and its `before` is None.

The admin's shape: Django's changeform_view calls save_model and then, at once,
save_related, inside one transaction. ArticleAdmin.save_model writes nothing; its
save_related calls `save_story` with an `apply` that runs ModelAdmin's own save_model and
save_related back to back. So the story row and its bylines, photos, links,
recommendations and tags are written by one call of the door, between one `before` and one
`after`, and announced once. The version check also runs earlier, in the form's clean(),
where a conflict becomes the form error the desk sees (and the refused edit is kept as a
version); by the time the door checks again the row is locked, so it agrees.

The seed import (manage.py import_seed) comes through here too, one story at a time, with no
actor: a new story is kept as its first version and announced like any other save. The
preview writes the draft inside a transaction that is always rolled back: it saves nothing,
so it does not come through here and announces nothing. The demo generator
(generate_demo_stories, in articles, below the desk) announces its new stories itself.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from articles.events import Placement, StoryChanged, announce
from articles.models import Article

from . import revisions, roles, workflow


@transaction.atomic
def save_story(
    article, apply, *, actor, what="edit", base_version=None, correction_note="", revision_note="", internal_note="",
    escaped_errors=None,
):
    """Save a change of `article`'s content made by `apply(article)`; return the story.

    `what` names the save in the announcement ("create", "edit", "correct", "restore", "import").
    `actor` is None for an import run by a command.
    `base_version` is the version the edit started from (None: not checked).
    `correction_note` is printed under a published story as its 更正; `internal_note` is the
    desk's own note of a change to a published story, kept in its history instead (one of the
    two is required there); `revision_note` is kept on the new version. `escaped_errors`
    ({kind: count}) are the errors the change to a published story corrects, counted once as
    escaped into print, with the correction if there is one (editorial.proofreading).
    """
    before = None
    if article.pk is None:
        article.version = 1
    else:
        revisions.check_version(article, base_version)  # locks the row until the transaction ends
        stored = Article.objects.get(pk=article.pk)
        before = Placement.of(stored)
        revisions.keep_baseline(article)
        revisions.bump_version(article)
        if stored.status == Article.Status.PUBLISHED:
            if correction_note.strip() or not internal_note.strip():
                workflow.record_correction(article, actor=actor, note=correction_note, escaped_errors=escaped_errors)
                escaped_errors = None  # counted with the correction
            if internal_note.strip():
                workflow.record_internal_note(article, actor=actor, note=internal_note, escaped_errors=escaped_errors)
    apply(article)
    revisions.record(article, author=actor, note=revision_note)
    announce(
        StoryChanged(story_id=article.pk, what=what, before=before, after=Placement.of(article), content_changed=True)
    )
    return article


@transaction.atomic
def restore(article, revision, *, actor, note=""):
    """Make `revision` the story's content again, as a new version; nothing is lost.

    A published story is restored as a correction (note required), and the restored text
    goes live at once.
    """
    article = Article.objects.select_for_update().get(pk=article.pk)
    if not roles.can(actor, "edit", article):
        raise PermissionDenied(_("You may not edit this story in its present state."))
    if revision.article_id != article.pk:
        raise ValueError("That version belongs to another story.")
    label = _("Restored from version %(n)s") % {"n": revision.number}
    if article.status == Article.Status.PUBLISHED:
        label = f"{label}; {note.strip()}"[:200]
    return save_story(
        article,
        lambda story: revisions.apply_snapshot(story, revision.data),
        actor=actor,
        what="restore",
        correction_note=note,
        revision_note=str(label),
    )
