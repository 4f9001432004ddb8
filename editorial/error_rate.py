"""差错率: the error rate per 10,000 characters, per desk (栏目), per editor and per month,
against the national benchmark (a newspaper passes at 3 errors per 10,000 characters, 万分之三).

Two rates are reported, both per 10,000 characters:

- the proofreading rate (校出率): errors found at 初审 and 终审 over the characters read
  there, by the time of the review;
- the error rate (差错率), the one the benchmark judges: errors that escaped into print
  (counted by the corrections of published stories, editorial.proofreading) over the
  characters published. A story's published characters are those read at its last 终审;
  a month is the month the story was published, and its escaped errors stay with it
  whenever they are corrected. A desk is the story's section; an editor answers for the
  stories they signed off (责任编辑).

The report is in the admin for the chief and the editors, with a chart drawn on the server
as inline SVG (a title, a description and the data table beside it; no script) and a CSV
export that Excel opens in Chinese (UTF-8 with a byte-order mark).
"""

import csv
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef, Q, Sum
from django.db.models.functions import TruncMonth
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import pgettext
from django.views.decorators.http import require_safe

from articles.models import Article, Person, Section

from .models import ProofreadingRecord

KINDS = ProofreadingRecord.KINDS
Stage = ProofreadingRecord.Stage
PER = 10_000
PERIODS = [3, 6, 12, 24]  # months the report may cover
DEFAULT_PERIOD = 12
NO_DESK = gettext_lazy("No section")
NO_EDITOR = gettext_lazy("No editor recorded")


def benchmark():
    """Errors per 10,000 characters at which a newspaper still passes (万分之三)."""
    return Decimal(str(getattr(settings, "NEWSROOM_ERROR_RATE_BENCHMARK", 3)))


def may_see(user):
    """The chief and the editors (初审编辑, 责任编辑) read the report; reporters do not."""
    return user.is_active and user.is_staff and user.has_perm("articles.review_article")


def rate(errors, characters):
    """Errors per 10,000 characters, to two places; None without characters."""
    if not characters:
        return None
    return (Decimal(errors * PER) / Decimal(characters)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass
class Row:
    """One desk, editor or month: what was read and found, published and escaped."""

    key: object
    label: str
    chart_label: tuple = ()  # (line, second line) under its bar; the label when empty
    read: int = 0
    found: dict = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    published: int = 0
    escaped: dict = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    @property
    def found_total(self):
        return sum(self.found.values())

    @property
    def escaped_total(self):
        return sum(self.escaped.values())

    @property
    def found_rate(self):
        return rate(self.found_total, self.read)

    @property
    def error_rate(self):
        return rate(self.escaped_total, self.published)

    @property
    def passes(self):
        """True at or under the benchmark, None with nothing published."""
        return None if self.error_rate is None else self.error_rate <= benchmark()

    @staticmethod
    def add(counts, into):
        """Add the counts by kind of `counts` (a dict or aggregate row) into `into`."""
        for kind in KINDS:
            into[kind] += counts.get(kind) or 0


@dataclass
class Report:
    start: datetime
    end: datetime
    months: int
    total: Row
    by_month: list
    by_desk: list
    by_editor: list
    by_stage: dict  # stage -> {kind: count}, for the table of kinds

    @property
    def benchmark(self):
        return benchmark()


def _sums():
    return {kind: Sum(kind) for kind in KINDS}


def period(months, now=None):
    """The first instant of the month `months - 1` before this one, and now (newsroom time)."""
    zone = timezone.get_default_timezone()
    now = now or timezone.now()
    local = timezone.localtime(now, zone)
    year, month = local.year, local.month - (months - 1)
    while month < 1:
        year, month = year - 1, month + 12
    return datetime.combine(local.date().replace(year=year, month=month, day=1), time.min, tzinfo=zone), now


def build(months=DEFAULT_PERIOD, now=None):
    """The report for the last `months` months, this one included."""
    start, end = period(months, now)
    zone = timezone.get_default_timezone()
    records = ProofreadingRecord.objects.all()
    reviews = records.filter(stage__in=[Stage.FIRST_REVIEW, Stage.FINAL_REVIEW], created_at__gte=start, created_at__lte=end)
    later_sign_off = records.filter(article=OuterRef("article"), stage=Stage.FINAL_REVIEW, pk__gt=OuterRef("pk"))
    in_print = Q(article__published_at__gte=start, article__published_at__lte=end) & ~Q(
        article__status__in=[Article.Status.DRAFT, Article.Status.FIRST_REVIEW, Article.Status.FINAL_REVIEW]
    )
    # Each published story once: the characters of its last sign-off.
    signed_off = records.filter(in_print, stage=Stage.FINAL_REVIEW).filter(~Exists(later_sign_off))
    escaped = records.filter(in_print, stage=Stage.PUBLISHED)

    month = TruncMonth("created_at", tzinfo=zone)
    published_month = TruncMonth("article__published_at", tzinfo=zone)
    groups = {
        "month": (
            reviews.annotate(group=month),
            signed_off.annotate(group=published_month),
            escaped.annotate(group=published_month),
        ),
        "desk": (
            reviews.annotate(group=F("article__section")),
            signed_off.annotate(group=F("article__section")),
            escaped.annotate(group=F("article__section")),
        ),
        "editor": (
            reviews.annotate(group=F("editor")),
            signed_off.annotate(group=F("article__responsible_editor")),
            escaped.annotate(group=F("article__responsible_editor")),
        ),
    }
    tables = {name: _table(*querysets) for name, querysets in groups.items()}

    by_month = [tables["month"].pop(key, None) or Row(key, "") for key in _months(start, months)]
    by_month += tables["month"].values()  # none expected: a clock changed mid-month
    for n, row in enumerate(by_month):
        row.label = _("%(year)d-%(month)02d") % {"year": row.key.year, "month": row.key.month}
        # Under a bar: the month's short name, and its year below the first bar and each January.
        row.chart_label = (dateformat.format(row.key, "M"), str(row.key.year) if n == 0 or row.key.month == 1 else "")
    by_desk = _labelled(tables["desk"], Section, "name", NO_DESK)
    by_editor = _labelled(tables["editor"], Person, "name", NO_EDITOR)

    total = Row("total", _("Total"))
    for row in by_month:
        total.read += row.read
        total.published += row.published
        total.add(row.found, total.found)
        total.add(row.escaped, total.escaped)
    by_stage = {stage: dict.fromkeys(KINDS, 0) for stage in Stage.values}
    for values in reviews.values("stage").annotate(**_sums()).order_by():
        by_stage[values["stage"]] = {kind: values[kind] or 0 for kind in KINDS}
    by_stage[Stage.PUBLISHED] = dict(total.escaped)
    return Report(start, end, months, total, by_month, by_desk, by_editor, by_stage)


def _table(reviews, signed_off, escaped):
    rows = {}

    def row(key):
        return rows.setdefault(key, Row(key, ""))

    for values in reviews.values("group").annotate(read=Sum("characters"), **_sums()).order_by():
        found = row(values["group"])
        found.read += values["read"] or 0
        found.add(values, found.found)
    for values in signed_off.values("group").annotate(published=Sum("characters")).order_by():
        row(values["group"]).published += values["published"] or 0
    for values in escaped.values("group").annotate(**_sums()).order_by():
        out = row(values["group"])
        out.add(values, out.escaped)
    return rows


def _months(start, months):
    zone = timezone.get_default_timezone()
    year, month = start.year, start.month
    for _n in range(months):
        yield datetime(year, month, 1, tzinfo=zone)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _labelled(rows, model, attribute, missing):
    names = dict(model.objects.filter(pk__in=[key for key in rows if key is not None]).values_list("pk", attribute))
    for key, row in rows.items():
        row.label = names.get(key) or str(missing)
    # The worst first: that is where the desk looks.
    return sorted(rows.values(), key=lambda row: (row.error_rate is None, -(row.error_rate or 0), -row.published, row.label))


# --- the chart: inline SVG, drawn here ------------------------------------------------------

WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 48


def _nice_top(value):
    for top in (4, 5, 6, 8, 10, 15, 20, 30, 40, 50, 100, 200, 500, 1000):
        if value <= top:
            return top
    return int(value) + 1


def chart(rows, *, id, title):
    """A bar per row (its 差错率), the benchmark as a dashed line across: geometry for
    templates/editorial/error_rate_chart.html. Rows with nothing published get no bar."""
    line = benchmark()
    values = [row.error_rate for row in rows]
    top = _nice_top(max([line * Decimal("1.5"), *[v for v in values if v is not None]]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(rows))

    def y(value):
        return TOP + plot_h - float(value) / top * plot_h

    bars = []
    for n, row in enumerate(rows):
        value = row.error_rate
        x = LEFT + n * slot
        bar = {
            "label": row.chart_label or (row.label, ""),
            "label_x": round(x + slot / 2, 1),
            "value": value,
            "over": value is not None and value > line,
        }
        if value is not None:
            bar.update(x=round(x + slot * 0.18, 1), width=round(slot * 0.64, 1), y=round(y(value), 1),
                       height=round(TOP + plot_h - y(value), 1), value_y=round(y(value) - 5, 1))
        bars.append(bar)
    step = 1 if top <= 6 else 2 if top <= 10 else top // 5
    ticks = [{"value": v, "y": round(y(v), 1)} for v in range(0, int(top) + 1, int(step))]
    described = pgettext("between the values of a chart", "; ").join(
        f"{row.label} {row.error_rate if row.error_rate is not None else _('nothing published')}" for row in rows
    )
    return {
        "id": id,
        "title": title,
        "desc": _("Errors per 10,000 published characters: %(values)s. The benchmark line is at %(line)s.") % {"values": described, "line": line},
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "bottom": TOP + plot_h,
        "label_y": TOP + plot_h + 18,
        "bars": bars,
        "ticks": ticks,
        "benchmark": line,
        "benchmark_y": round(y(line), 1),
        "benchmark_label_y": round(y(line) - 6, 1),
        # Month labels would collide past a year: every other one is printed.
        "thin_labels": len(rows) > 12,
    }


# --- the pages ------------------------------------------------------------------------------


def _months_asked(request):
    raw = request.GET.get("months", "")
    return int(raw) if raw.isdigit() and int(raw) in PERIODS else DEFAULT_PERIOD


@require_safe
def report(request):
    """The 差错率 report: the rate per month, per desk and per editor, charted against 万分之三."""
    if not may_see(request.user):
        raise PermissionDenied
    from django.contrib import admin

    data = build(_months_asked(request))
    context = {
        **admin.site.each_context(request),
        "opts": Article._meta,
        "title": _("Error rate (差错率)"),
        "report": data,
        "periods": PERIODS,
        "kind_rows": [
            (ProofreadingRecord._meta.get_field(kind).verbose_name, [data.by_stage[stage][kind] for stage in Stage.values])
            for kind in KINDS
        ],
        "stages": Stage.choices,
        "month_chart": chart(data.by_month, id="chart-month", title=_("Error rate by month")),
        "desk_chart": chart(data.by_desk, id="chart-desk", title=_("Error rate by desk")),
    }
    return TemplateResponse(request, "editorial/error_rate_report.html", context)


def _cell(value):
    """A value as a spreadsheet cell: numbers as they are, text never read as a formula."""
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@require_safe
def report_csv(request):
    """The report's rows as CSV, UTF-8 with a byte-order mark so that Excel reads the Chinese."""
    if not may_see(request.user):
        raise PermissionDenied
    months = _months_asked(request)
    data = build(months)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(data.end, timezone.get_default_timezone())
    response["Content-Disposition"] = f'attachment; filename="error-rate-{stamp:%Y%m%d}-{months}m.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    labels = [str(ProofreadingRecord._meta.get_field(kind).verbose_name) for kind in KINDS]
    writer.writerow(
        [
            _("Grouped by"), _("Name"), _("Characters read"), _("Errors found"), _("Found per 10,000"),
            _("Characters published"), _("Errors escaped"), _("Error rate per 10,000"),
            _("Passes (at most %(line)s per 10,000)") % {"line": data.benchmark},
            *[_("Found: %(kind)s") % {"kind": label} for label in labels],
            *[_("Escaped: %(kind)s") % {"kind": label} for label in labels],
        ]
    )
    passes = {True: _("yes"), False: _("no"), None: ""}
    for group, rows in [(_("Month"), data.by_month), (_("Desk"), data.by_desk), (_("Editor"), data.by_editor), (_("Total"), [data.total])]:
        for row in rows:
            writer.writerow(
                [_cell(v) for v in [
                    group, row.label, row.read, row.found_total, row.found_rate, row.published, row.escaped_total,
                    row.error_rate, passes[row.passes],
                    *[row.found[kind] for kind in KINDS], *[row.escaped[kind] for kind in KINDS],
                ]]
            )
    return response
