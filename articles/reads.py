"""点击排行: how many times readers read each story, per day in the newsroom's time zone.

Rows are written in batches by readers.most_read (counted in the cache first, then added
here every few minutes), never once per page view.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import Article


class DailyReads(models.Model):
    """Reads of one story on one day (Asia/Shanghai)."""

    article = models.ForeignKey(Article, verbose_name=_("story"), on_delete=models.CASCADE, related_name="daily_reads")
    day = models.DateField(_("day"))
    reads = models.PositiveIntegerField(_("reads"), default=0)

    class Meta:
        verbose_name = _("daily reads")
        verbose_name_plural = _("daily reads")
        constraints = [models.UniqueConstraint(fields=["day", "article"], name="daily_reads_once_a_day")]
        indexes = [models.Index(fields=["day", "-reads"], name="daily_reads_rank_idx")]

    def __str__(self):
        return f"{self.day} {self.article_id}: {self.reads}"
