"""The readers' read model: every public page kept render-ready, as readers get it.

A `StoredPage` is one page (one origin and path) exactly as the full middleware stack answered
an anonymous reader: status, body, the view's and the stack's headers, and the dependency keys
it showed (delivery.registry). delivery.read_model writes it when a change commits (the
delivery task renders the pages a change touches) or when a reader asks for a page that is not
there yet, and deletes it when one of its keys changes. Readers' requests read it with one
statement by primary key, before Django's handler (delivery.cache.serve_hits_first).

An `Invalidation` row says a key changed at a moment: a page whose build began before that
moment is not stored (it may show the state before the change). Rows older than any build
are pruned as new ones come.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StoredPage(models.Model):
    # The origin and path the page answers at, e.g. "https://news.example.cn/stories/12/slug/".
    address = models.TextField(primary_key=True)
    path = models.TextField(db_index=True)  # the path alone, for a change naming the pages it touches by path
    # The kind of page (delivery.registry: the first URL name of its declaration, e.g. "articles:detail").
    kind = models.CharField(max_length=100)
    # The code that rendered it (NEWSROOM_DEPLOY_ID or the git revision): a deploy's new templates
    # are never hidden behind pages the previous code rendered.
    deploy = models.CharField(max_length=64, default="")
    status = models.PositiveSmallIntegerField()
    content = models.BinaryField()
    # Unix time after which the page is out of date by itself (a scheduled story joins it), or null.
    expires = models.FloatField(null=True)
    # Headers, ETag, when it was built and the dependency versions it was built with (delivery.cache's entry).
    meta = models.JSONField()
    # The dependency keys it shows, for deleting it when one changes (GIN-indexed on PostgreSQL).
    keys = models.JSONField()

    class Meta:
        verbose_name = _("stored page")
        verbose_name_plural = _("stored pages")

    def __str__(self):
        return self.address


class Invalidation(models.Model):
    key = models.CharField(max_length=200)
    at = models.FloatField()  # Unix time of the change (the invalidating process's clock)

    class Meta:
        indexes = [models.Index(fields=["key", "at"]), models.Index(fields=["at"])]
        verbose_name = _("invalidation")
        verbose_name_plural = _("invalidations")

    def __str__(self):
        return f"{self.key} @ {self.at}"
