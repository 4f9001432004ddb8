"""Template helpers for readers' pages: layout-stable responsive photos, JSON-LD, keyset links."""

import json

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from articles.renditions import index_entry
from delivery import registry
from delivery.fragments import shared_block
from editorial.photos import photo_url

register = template.Library()

RESPONSIVE_SPECS = [spec for spec, (w, h) in settings.NEWSROOM_RENDITIONS.items() if h is None]


def rendition_info(image, spec):
    """{"url", "width", "height"} of a rendition, from the photo's own index when it has it.

    The index on the photo saves one query per page; a missing entry is made (or read) once
    and written back, so the next page needs no query for it.
    """
    entry = (image.rendition_index or {}).get(spec)
    if not entry:
        entry = index_entry(image.rendition(spec))
        index = dict(image.rendition_index or {}, **{spec: entry})
        type(image).objects.filter(pk=image.pk).update(rendition_index=index)
        image.rendition_index = index
    return {"url": photo_url(image, entry["name"]), "width": entry["width"], "height": entry["height"]}


@register.simple_tag
def picture(image, sizes="(min-width: 48rem) 46rem, 100vw", loading="lazy", css_class=""):
    """An <img> with srcset over the responsive renditions, width/height set, alt from the record."""
    if image is None:
        return ""
    # A photo narrower than a rendition's width is not enlarged, so two renditions can share
    # a width; srcset names each width once (a repeated one makes the attribute invalid).
    by_width = {}
    for rendition in (rendition_info(image, spec) for spec in RESPONSIVE_SPECS):
        by_width.setdefault(rendition["width"], rendition)
    renditions = [by_width[width] for width in sorted(by_width)]
    largest = renditions[-1]
    srcset = ", ".join(f"{r['url']} {r['width']}w" for r in renditions)
    return format_html(
        '<img src="{}" srcset="{}" sizes="{}" width="{}" height="{}" alt="{}" loading="{}" decoding="async"{}>',
        largest["url"],
        srcset,
        sizes,
        largest["width"],
        largest["height"],
        image.alt,
        loading,
        format_html(' class="{}"', css_class) if css_class else "",
    )


@register.simple_tag
def thumbnail(image, loading="lazy"):
    """The list thumbnail of `image`, or nothing."""
    if image is None:
        return ""
    rendition = rendition_info(image, "thumb")
    return format_html(
        '<img src="{}" width="{}" height="{}" alt="{}" loading="{}" decoding="async">',
        rendition["url"],
        rendition["width"],
        rendition["height"],
        image.alt,
        loading,
    )


@register.filter
def html_datetime(value):
    """`value` as a <time datetime> wants it: local time in whole seconds with the offset,
    e.g. 2026-12-03T08:12:41+08:00. The `date` filter's "c" keeps microseconds, which HTML
    does not accept there; "" for no time."""
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(microsecond=0).isoformat()


def local_times(value, short="%Y-%m-%d %H:%M"):
    """(<time datetime>, short) forms of an aware time in the current time zone: what
    `html_datetime` and the `date` filter's "Y-m-d H:i" give, at a fraction of their cost
    (cards print dozens)."""
    if value is None:
        return "", ""
    local = timezone.localtime(value)
    return local.replace(microsecond=0).isoformat(), local.strftime(short)


@register.simple_tag
def story_card(article, level=2, loading="lazy"):
    """A story's card in a list: thumbnail, headline, summary, time and outlet.

    Built here rather than by including a template per card: a list page prints up to 60
    of them, and a template per card cost more than the rest of the page. Every value is
    escaped by format_html."""
    url = article.get_absolute_url()
    thumb = ""
    if getattr(article, "card_image", None):
        thumb = format_html(
            '<a class="card-thumb" href="{}" tabindex="-1" aria-hidden="true">{}</a>',
            url,
            thumbnail(article.card_image, loading=loading or "lazy"),
        )
    summary = format_html('<p class="card-summary">{}</p>', article.summary) if article.summary else ""
    outlet = format_html(' <span class="outlet">{}</span>', article.outlet.name) if article.outlet_id else ""
    iso, short = local_times(article.published_at)
    level = level or 2
    return format_html(
        '<article class="card">\n  {}\n  <div class="card-text">\n'
        '    <h{} class="card-title"><a href="{}">{}</a></h{}>\n'
        "    {}\n"
        '    <p class="card-meta"><time datetime="{}">{}</time>{}</p>\n'
        "  </div>\n</article>\n",
        thumb, level, url, article.headline, level, summary, iso, short, outlet,
    )


@register.simple_tag
def recommended_card(item):
    """A 推荐阅读 card up to its meta line (the desk's preview adds the reason after it, and the
    template closes the item): headline, thumbnail, summary with its [详细] link, time and outlet.

    Built here for the reason `story_card` is: as a template, the six cards cost a story page
    about as much as the rest of its text. Every value is escaped by format_html."""
    url = item.get_absolute_url()
    thumb = ""
    if getattr(item, "card_image", None):
        thumb = format_html(
            '<a class="rec-thumb" href="{}" tabindex="-1" aria-hidden="true">{}</a>', url, thumbnail(item.card_image)
        )
    outlet = format_html('<span class="outlet">{}</span>', item.outlet.name) if item.outlet_id else ""
    iso, short = local_times(item.published_at, "%m-%d %H-%M")
    return format_html(
        '<li class="rec">\n'
        '        <h3 class="rec-title"><a href="{}">{}</a></h3>\n'
        "        {}\n"
        '        <p class="rec-summary">{} <a class="more" href="{}" aria-label="详细:{}">[详细]</a></p>\n'
        '        <p class="rec-meta"><time datetime="{}">{}</time>{}</p>',
        url, item.headline, thumb, item.summary, url, item.headline, iso, short, outlet,
    )


@register.simple_tag(takes_context=True)
def section_nav(context):
    """The section navigation, with the home page or the page's section marked current: one
    block per current item, kept until a section or outlet changes (delivery.fragments)."""
    request, section = context.get("request"), context.get("section")
    home_current = request is not None and request.path == "/"
    current_pk = getattr(section, "pk", None) if section else None

    def render():
        return render_to_string(
            "includes/section_nav.html",
            {"nav_sections": context.get("nav_sections"), "home_current": home_current, "current_pk": current_pk},
        )

    variant = f"home={int(home_current)},section={current_pk}"
    return shared_block("section-nav", [registry.SITE], variant, render)


@register.simple_tag
def search_result(hit):
    """A search result (articles.search.Hit) up to its closing tag: the headline and the
    snippet with their matches marked (already safe), the time, section and outlet.

    Built here for the reason `story_card` is: ten results cost the search page 0.55-0.6 ms
    as a template loop and 0.25-0.28 ms here. Every other value is escaped by format_html."""
    iso, short = local_times(hit.published_at)
    section = format_html(' <span class="outlet">{}</span>', hit.section_name) if hit.section_name else ""
    outlet = format_html(' <span class="outlet">{}</span>', hit.outlet_name) if hit.outlet_name else ""
    return format_html(
        '<li class="result">\n'
        '      <h2 class="card-title"><a href="{}">{}</a></h2>\n'
        '      <p class="snippet">{}</p>\n'
        '      <p class="card-meta"><time datetime="{}">{}</time>{}{}</p>\n'
        "    </li>",
        hit.get_absolute_url(), hit.headline_marked, hit.snippet, iso, short, section, outlet,
    )


@register.simple_tag(takes_context=True)
def image_url(context, image, spec="w1200"):
    """The absolute address of a rendition, for Open Graph and JSON-LD."""
    if image is None:
        return ""
    return context["request"].build_absolute_uri(rendition_info(image, spec)["url"])


@register.filter
def json_script_safe(value):
    """`value` as JSON that cannot end a <script> element: <, > and & become \\u escapes."""
    text = json.dumps(value, ensure_ascii=False, indent=None)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return mark_safe(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
