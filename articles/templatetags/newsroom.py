"""Template helpers for printing photos as responsive, layout-stable <img> tags."""

from django import template
from django.conf import settings
from django.utils.html import format_html

register = template.Library()

RESPONSIVE_SPECS = [spec for spec, (w, h) in settings.NEWSROOM_RENDITIONS.items() if h is None]


@register.simple_tag
def picture(image, sizes="(min-width: 48rem) 46rem, 100vw", loading="lazy", css_class=""):
    """An <img> with srcset over the responsive renditions, width/height set, alt from the record."""
    if image is None:
        return ""
    renditions = [image.rendition(spec) for spec in RESPONSIVE_SPECS]
    renditions.sort(key=lambda r: r.width)
    largest = renditions[-1]
    srcset = ", ".join(f"{r.url} {r.width}w" for r in renditions)
    return format_html(
        '<img src="{}" srcset="{}" sizes="{}" width="{}" height="{}" alt="{}" loading="{}" decoding="async"{}>',
        largest.url,
        srcset,
        sizes,
        largest.width,
        largest.height,
        image.alt,
        loading,
        format_html(' class="{}"', css_class) if css_class else "",
    )


@register.simple_tag
def thumbnail(image, loading="lazy"):
    """The list thumbnail of `image`, or nothing."""
    if image is None:
        return ""
    rendition = image.rendition("thumb")
    return format_html(
        '<img src="{}" width="{}" height="{}" alt="{}" loading="{}" decoding="async">',
        rendition.url,
        rendition.width,
        rendition.height,
        image.alt,
        loading,
    )
