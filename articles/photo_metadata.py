"""A stored original keeps its pixels and nothing else that a camera, an editing program or
a hostile sender put into the file.

Renditions (what readers get) are re-encoded from pixels and carry no metadata at all.
The original is kept for the desk, and its address can be guessed, so on upload it loses
everything that is not needed to show the picture:

- personal metadata: the author (Artist, ImageDescription, XMP, IPTC), the camera and its
  serial numbers (Make, Model, BodySerialNumber, maker notes), the GPS position and the
  time of the shot, and the EXIF thumbnail (which may show the picture before a crop);
- comments and text: JPEG COM segments, PNG tEXt/zTXt/iTXt chunks, GIF comment and
  plain-text extensions, unknown chunks and application blocks of every format;
- whatever follows the picture: bytes after a JPEG's end-of-image (phones append a second
  picture or a video there), after a PNG's IEND, a GIF's trailer or a WebP's RIFF size.

What stays: the compressed picture itself, byte for byte, so pixels are exactly the same
(a JPEG is not re-encoded), animation frames and their timing, transparency, colour
information (ICC profile, gamma, sRGB) and the EXIF orientation alone, so the picture is
shown the right way up.

Each format is filtered by walking its own structure (segments, chunks or blocks) and
copying only the parts listed here as needed. A file that cannot be walked that way (one
Pillow reads but that is malformed) is re-encoded by Pillow instead (PNG, GIF and lossless
WebP without loss; JPEG and lossy WebP at quality 95) and that result is filtered again.
"""

import io
import struct
import zlib

from PIL import ExifTags
from PIL import Image as PILImage

ORIENTATION = ExifTags.Base.Orientation
EXIF_HEADER = b"Exif\x00\x00"

# JPEG markers.
SOI, EOI, SOS, APP0, APP1, APP2, APP14, COM = 0xD8, 0xD9, 0xDA, 0xE0, 0xE1, 0xE2, 0xEE, 0xFE
STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RST0-7 carry no length
# Frame headers (SOF0-15 without the reserved JPG marker), Huffman and arithmetic tables,
# quantisation tables, restart interval, number of lines, hierarchical progression: what
# decoding needs. Every APPn and COM segment is left out except the few kept on purpose.
JPEG_DECODING_MARKERS = {*range(0xC0, 0xD0), 0xDB, 0xDC, 0xDD, 0xDE, 0xDF} - {0xC8}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Pixels, palette, transparency, colour (gamma, chromaticities, sRGB, ICC, CICP, significant
# bits), pixel density and APNG animation. Text, eXIf, tIME and unknown chunks are left out.
PNG_KEPT_CHUNKS = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP",
    b"cICP", b"sBIT", b"pHYs", b"acTL", b"fcTL", b"fdAT",
}  # fmt: skip

GIF_LOOPING_APPLICATIONS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")

# WebP chunks: the bitstreams, alpha, animation, the ICC profile. EXIF is rebuilt, XMP and
# unknown chunks are left out (also inside animation frames).
WEBP_KEPT_CHUNKS = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ICCP"}
WEBP_FRAME_CHUNKS = {b"VP8 ", b"VP8L", b"ALPH"}
VP8X_ICC, VP8X_EXIF, VP8X_XMP = 0x20, 0x08, 0x04


class Unwalkable(ValueError):
    """The file is not built the way its format says; it is re-encoded instead."""


def without_metadata(data):
    """The photo `data` (bytes) as the newsroom stores it: the same picture with no
    metadata but its orientation, and nothing after it. None when `data` is that already."""
    with PILImage.open(io.BytesIO(data)) as picture:
        fmt = "JPEG" if picture.format == "MPO" else picture.format
        orientation = _orientation(picture)
        # An MPO's further pictures go with the rest of what follows the first one.
        frames = 1 if fmt == "JPEG" else getattr(picture, "n_frames", 1)
        size = picture.size
    clean = CLEANERS[fmt]
    try:
        cleaned = clean(data, orientation)
        _check_same_picture(cleaned, fmt, size, frames)
    except (Unwalkable, OSError, SyntaxError, ValueError, IndexError, EOFError, struct.error):
        cleaned = clean(_reencode(data, fmt), orientation)
    return None if cleaned == data else cleaned


def _orientation(picture):
    """The EXIF orientation (2-8) when the picture is to be turned or mirrored, else None."""
    try:
        value = picture.getexif().get(ORIENTATION)
    except Exception:  # unreadable EXIF counts as none
        return None
    return value if isinstance(value, int) and 2 <= value <= 8 else None


def _exif_with_only(orientation):
    """A TIFF structure (without the 'Exif' prefix) holding nothing but the orientation."""
    exif = PILImage.Exif()
    exif[ORIENTATION] = orientation
    return exif.tobytes()[len(EXIF_HEADER):]


# JPEG ---------------------------------------------------------------------------------------


def _clean_jpeg(data, orientation):
    jfif, kept = b"", []
    for marker, start, end in _jpeg_segments(data):
        payload = data[start + 4 : end]
        if marker == EOI:
            exif = _jpeg_segment(APP1, EXIF_HEADER + _exif_with_only(orientation)) if orientation else b""
            return b"".join([b"\xff\xd8", jfif, exif, *kept, b"\xff\xd9"])
        if marker == APP0 and payload.startswith(b"JFIF\x00") and len(payload) >= 14 and not jfif:
            # Version, density units and density; the thumbnail the header may carry goes.
            jfif = _jpeg_segment(APP0, payload[:12] + b"\x00\x00")
        elif (
            marker in JPEG_DECODING_MARKERS
            or marker == SOS
            or (marker == APP2 and payload.startswith(b"ICC_PROFILE\x00"))
            or (marker == APP14 and payload.startswith(b"Adobe"))  # says how colours are coded
        ):
            kept.append(data[start:end])
    raise Unwalkable("no end-of-image marker")


def _jpeg_segment(marker, payload):
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _jpeg_segments(data):
    """Yield (marker, start, end) of each JPEG segment after SOI, up to and including EOI."""
    if data[:2] != b"\xff\xd8":
        raise Unwalkable("no start-of-image marker")
    position = 2
    while position < len(data):
        if data[position] != 0xFF:
            raise Unwalkable(f"expected a marker at {position}")
        while data[position + 1] == 0xFF:  # fill bytes
            position += 1
        marker = data[position + 1]
        if marker == EOI:
            yield marker, position, position + 2
            return
        if marker in STANDALONE or marker == SOI:
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        end = position + 2 + length
        if end > len(data):
            raise Unwalkable("a segment runs past the end of the file")
        if marker == SOS:
            end = _end_of_scan(data, end)
        yield marker, position, end
        position = end
    raise Unwalkable("no end-of-image marker")


def _end_of_scan(data, position):
    """Where the compressed data after a start-of-scan header ends (the next real marker)."""
    while True:
        position = data.index(b"\xff", position)
        following = data[position + 1]
        if following == 0x00 or following in STANDALONE or following == 0xFF:
            position += 1 if following == 0xFF else 2
            continue
        return position


# PNG ----------------------------------------------------------------------------------------


def _clean_png(data, orientation):
    if not data.startswith(PNG_SIGNATURE):
        raise Unwalkable("no PNG signature")
    out, position = [PNG_SIGNATURE], len(PNG_SIGNATURE)
    while position + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 12 + length
        if end > len(data):
            raise Unwalkable("a chunk runs past the end of the file")
        if kind in PNG_KEPT_CHUNKS:
            out.append(data[position:end])
        if kind == b"IHDR" and orientation:
            out.append(_png_chunk(b"eXIf", _exif_with_only(orientation)))
        if kind == b"IEND":
            return b"".join(out)
        position = end
    raise Unwalkable("no IEND chunk")


def _png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


# GIF ----------------------------------------------------------------------------------------


def _clean_gif(data, orientation):
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        raise Unwalkable("no GIF header")
    position = 13 + _colour_table_size(data[10])
    out = [data[:position]]
    while True:
        block = data[position]
        if block == 0x3B:  # trailer
            out.append(b"\x3b")
            return b"".join(out)
        if block == 0x2C:  # an image: descriptor, local colour table, LZW code size, data
            start = position
            position += 10 + _colour_table_size(data[position + 9]) + 1
            position = _after_sub_blocks(data, position)
            out.append(data[start:position])
            continue
        if block != 0x21:
            raise Unwalkable(f"unknown GIF block at {position}")
        label, end = data[position + 1], _after_sub_blocks(data, position + 2)
        if label == 0xF9 and data[position + 2] == 4:
            # Graphic control: delay, disposal and transparent colour, without any extra sub-block.
            out.append(data[position : position + 7] + b"\x00")
        elif label == 0xFF and data[position + 2] == 11 and data[position + 3 : position + 14] in GIF_LOOPING_APPLICATIONS:
            loop = data[position + 14 : position + 18]
            if loop[:2] == b"\x03\x01":  # the loop count; nothing else from the application block
                out.append(b"\x21\xff\x0b" + data[position + 3 : position + 14] + loop + b"\x00")
        # Comments (0xFE), plain text (0x01) and other applications (XMP, ICC...) are left out.
        position = end


def _colour_table_size(flags):
    return 3 << ((flags & 0x07) + 1) if flags & 0x80 else 0


def _after_sub_blocks(data, position):
    while True:
        size = data[position]
        position += 1 + size
        if size == 0:
            return position
        if position > len(data):
            raise Unwalkable("data runs past the end of the file")


# WebP ---------------------------------------------------------------------------------------


def _clean_webp(data, orientation):
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise Unwalkable("no WebP header")
    (riff_size,) = struct.unpack("<I", data[4:8])
    chunks = []
    for kind, payload in _riff_chunks(data, 12, 8 + riff_size):
        if kind == b"ANMF":
            frame = [(k, p) for k, p in _riff_chunks(payload, 16, len(payload)) if k in WEBP_FRAME_CHUNKS]
            payload = payload[:16] + b"".join(_riff_chunk(k, p) for k, p in frame)
        elif kind not in WEBP_KEPT_CHUNKS:
            continue
        chunks.append((kind, payload))
    kinds = {kind for kind, _ in chunks}
    if b"VP8X" in kinds:
        if orientation:
            chunks.append((b"EXIF", _exif_with_only(orientation)))
        flags = 0
        for index, (kind, payload) in enumerate(chunks):
            if kind == b"VP8X":
                flags = payload[0] & ~(VP8X_ICC | VP8X_EXIF | VP8X_XMP)
                flags |= (VP8X_ICC if b"ICCP" in kinds else 0) | (VP8X_EXIF if orientation else 0)
                chunks[index] = (kind, bytes((flags,)) + payload[1:])
    body = b"".join(_riff_chunk(kind, payload) for kind, payload in chunks)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def _riff_chunks(data, position, end):
    if end > len(data):
        raise Unwalkable("the RIFF size runs past the end of the file")
    while position + 8 <= end:
        kind, (size,) = data[position : position + 4], struct.unpack("<I", data[position + 4 : position + 8])
        start = position + 8
        if start + size > end:
            raise Unwalkable("a chunk runs past its container")
        yield kind, data[start : start + size]
        position = start + size + (size & 1)


def _riff_chunk(kind, payload):
    return kind + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")


CLEANERS = {"JPEG": _clean_jpeg, "PNG": _clean_png, "GIF": _clean_gif, "WEBP": _clean_webp}


# Checking and the fallback -------------------------------------------------------------------


def _check_same_picture(cleaned, fmt, size, frames):
    """The filtered file is read as the same format, size and number of frames, to the end."""
    with PILImage.open(io.BytesIO(cleaned)) as after:
        if (after.format, after.size, getattr(after, "n_frames", 1)) != (fmt, size, frames):
            raise Unwalkable("the filtered file is not the same picture")
        after.load()


def _reencode(data, fmt):
    """Pillow's own encoding of the picture in `data`, from its pixels (every frame)."""
    with PILImage.open(io.BytesIO(data)) as picture:
        picture.load()
        frames = getattr(picture, "n_frames", 1)
        options = {}
        if picture.info.get("icc_profile"):
            options["icc_profile"] = picture.info["icc_profile"]
        if fmt == "JPEG":
            if picture.mode not in {"RGB", "L", "CMYK"}:
                picture = picture.convert("RGB")
            options.update(quality=95, subsampling="keep" if picture.format == "JPEG" else 0)
        elif fmt == "WEBP":
            options.update(quality=95, lossless=data[12:16] == b"VP8L")
        if frames > 1 and fmt != "JPEG":
            options["save_all"] = True
        out = io.BytesIO()
        picture.save(out, fmt, **options)
        return out.getvalue()
