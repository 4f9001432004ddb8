"""Resized copies of photos, made once and reused, and placeholders for missing originals.

Every rendition is re-encoded from decoded pixels with EXIF orientation applied,
so nothing of the original's metadata (camera, GPS location) reaches readers.
"""

import functools
import io
import secrets
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont, ImageOps

PLACEHOLDER_SIZE = (1200, 800)
CJK_FONT_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
]


def spec_size(spec):
    try:
        return settings.NEWSROOM_RENDITIONS[spec]
    except KeyError:
        raise ValueError(f"Unknown rendition {spec!r}; known: {sorted(settings.NEWSROOM_RENDITIONS)}")


def upright(source):
    """The picture in the open file `source`, turned by its EXIF orientation, as RGB or L."""
    with PILImage.open(source) as original:
        original.load()
        picture = ImageOps.exif_transpose(original)
    if picture.mode not in ("RGB", "L"):
        background = PILImage.new("RGB", picture.size, "white")
        rgba = picture.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        picture = background
    return picture


def resize(picture, spec):
    """Return (bytes, extension) of `spec` made from an upright() picture."""
    width, height = spec_size(spec)
    if height:
        picture = ImageOps.fit(picture, (width, height), PILImage.Resampling.LANCZOS)
    elif picture.width > width:
        ratio = width / picture.width
        picture = picture.resize((width, max(1, round(picture.height * ratio))), PILImage.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.convert("RGB").save(out, "JPEG", quality=82, optimize=True, progressive=True)
    return out.getvalue(), "jpg"


def render(source, spec):
    """Return (bytes, extension) of `spec` made from the open file `source`."""
    spec_size(spec)
    return resize(upright(source), spec)


def index_entry(rendition):
    """What Image.rendition_index keeps of a rendition: pages print it without a query."""
    return {"name": rendition.file.name, "width": rendition.width, "height": rendition.height}


def get_rendition(image, spec):
    """The (image, spec) rendition: from the prefetch cache, the database, or made now."""
    from .models import Rendition

    spec_size(spec)
    cached = getattr(image, "_prefetched_objects_cache", {}).get("renditions")
    if cached is not None:
        for rendition in cached:
            if rendition.spec == spec:
                return rendition
    else:
        rendition = Rendition.objects.filter(image=image, spec=spec).first()
        if rendition is not None:
            return rendition
    return make_rendition(image, spec)


@functools.lru_cache(maxsize=64)
def _render_small(data, spec):
    return render(io.BytesIO(data), spec)


def make_rendition(image, spec, picture=None):
    """Make and store the (image, spec) rendition; `picture` is the original already
    decoded by upright(), so that several renditions read the original only once."""
    from .models import Rendition

    if picture is not None:
        data, extension = resize(picture, spec)
    else:
        with image.file.open("rb") as source:
            if image.is_placeholder:
                # Placeholders repeat (same bytes for every missing photo): render each once per process.
                data, extension = _render_small(source.read(), spec)
            else:
                data, extension = render(source, spec)
    # A random part of its own: two requests making the same rendition at once never
    # write to one name, so the loser's clean-up below cannot remove the winner's file
    # (object storage has no exclusive create to prevent that).
    name = f"{Path(image.file.name).stem}-{spec}-{secrets.token_hex(4)}.{extension}"
    rendition = Rendition(image=image, spec=spec, file=ContentFile(data, name=name))
    try:
        with transaction.atomic():
            rendition.save()
    except IntegrityError:
        # Another request made it first; use theirs and drop our copy.
        rendition.file.delete(save=False)
        rendition = Rendition.objects.get(image=image, spec=spec)
    else:
        if image.is_public:
            # New files are written privately (articles.photo_storage); a photo readers
            # already see gets its new size where readers' address finds it.
            rendition.file.storage.publish(rendition.file.name)
    return rendition


def ensure_renditions(image, specs=None):
    """Make every rendition of `image` (all configured ones, or `specs`) not made yet,
    reading the original once, and note them all in the photo's rendition_index."""
    from .models import Rendition

    specs = list(specs or settings.NEWSROOM_RENDITIONS)
    for spec in specs:
        spec_size(spec)
    made = {rendition.spec: rendition for rendition in Rendition.objects.filter(image=image, spec__in=specs)}
    missing = [spec for spec in specs if spec not in made]
    if missing and image.is_placeholder:
        for spec in missing:
            made[spec] = make_rendition(image, spec)
    elif missing:
        with image.file.open("rb") as source:
            picture = upright(source)
        for spec in missing:
            made[spec] = make_rendition(image, spec, picture=picture)
    index = dict(image.rendition_index or {}, **{spec: index_entry(rendition) for spec, rendition in made.items()})
    if index != image.rendition_index:
        type(image).objects.filter(pk=image.pk).update(rendition_index=index)
        image.rendition_index = index
    return made


def _font(size):
    for path in CJK_FONT_CANDIDATES:
        if Path(path).exists():
            return ImageFont.truetype(path, size), True
    return ImageFont.load_default(size=size), False


@functools.lru_cache(maxsize=256)
def placeholder_png(original_filename=""):
    """A clearly marked stand-in for a photo whose bytes are missing: PNG bytes."""
    width, height = PLACEHOLDER_SIZE
    canvas = PILImage.new("RGB", PLACEHOLDER_SIZE, "#e4e4e4")
    draw = ImageDraw.Draw(canvas)
    for x in range(-height, width, 48):
        draw.line([(x, height), (x + height, 0)], fill="#d2d2d2", width=14)
    draw.rectangle([(24, 24), (width - 25, height - 25)], outline="#8a8a8a", width=6)
    big, has_cjk = _font(72)
    small, _ = _font(36)
    title = "占位图 · 原图缺失" if has_cjk else "PLACEHOLDER - original image missing"
    lines = [(title, big)]
    if original_filename:
        name = original_filename if has_cjk or original_filename.isascii() else "(original file name not printable)"
        lines.append((name, small))
    y = height // 2 - 70
    for text, font in lines:
        box = draw.textbbox((0, 0), text, font=font)
        draw.text(((width - (box[2] - box[0])) // 2, y), text, fill="#333333", font=font)
        y += (box[3] - box[1]) + 40
    out = io.BytesIO()
    canvas.save(out, "PNG", optimize=True)
    return out.getvalue()
