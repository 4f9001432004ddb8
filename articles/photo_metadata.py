"""Where a photo was taken stays with the photographer, not in the stored original.

Renditions (what readers get) are re-encoded from pixels and carry no metadata at all.
The stored original is kept as uploaded, with one exception: location. A phone photo's
EXIF holds the GPS position of the shot (often a source's home or a reporter's desk),
and an original's address can be guessed. So on upload the location is removed:

- JPEG: losslessly. The file's segments are rewritten with the EXIF minus its GPS block,
  without XMP and IPTC blocks (which may repeat the location) and without anything
  after the picture (phones append a second picture or a video there); the compressed
  image data is copied byte for byte, so the pixels are exactly the same.
- PNG and WebP with GPS in their EXIF: re-saved without it (PNG stays lossless).
- GIF carries no EXIF.

Orientation, camera, lens and time stay: the newsroom uses them.
"""

import io
import struct

from PIL import ExifTags
from PIL import Image as PILImage

EXIF_HEADER = b"Exif\x00\x00"
XMP_HEADERS = (b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00")
APP1, APP2, APP13, SOS, EOI = 0xE1, 0xE2, 0xED, 0xDA, 0xD9
STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RST0-7 carry no length


class NotAJPEG(ValueError):
    pass


def without_location(data):
    """The photo `data` (bytes) with its location removed, or None when it has none."""
    with PILImage.open(io.BytesIO(data)) as picture:
        fmt = picture.format
        exif = picture.getexif()
        has_gps = ExifTags.IFD.GPSInfo in exif
        has_xmp = bool(picture.info.get("xmp"))
        extra_frames = getattr(picture, "n_frames", 1) > 1
    if fmt in {"JPEG", "MPO"}:
        if not (has_gps or has_xmp or extra_frames or _has_trailer_or_iptc(data)):
            return None
        try:
            cleaned = _rewrite_jpeg(data)
            _check_same_picture(data, cleaned)
            return cleaned
        except (NotAJPEG, OSError, SyntaxError, ValueError, IndexError, struct.error):
            return _resave(data, "JPEG", quality=95)
    if fmt in {"PNG", "WEBP"} and has_gps:
        return _resave(data, fmt, quality=95)
    return None


def _clean_exif(payload):
    exif = PILImage.Exif()
    exif.load(payload[len(EXIF_HEADER):])
    exif.pop(ExifTags.IFD.GPSInfo, None)
    return exif.tobytes()  # starts with EXIF_HEADER


def _segments(data):
    """Yield (marker, start, end) of each JPEG segment up to and including EOI."""
    if data[:2] != b"\xff\xd8":
        raise NotAJPEG("no start-of-image marker")
    position = 2
    while position < len(data):
        if data[position] != 0xFF:
            raise NotAJPEG(f"expected a marker at {position}")
        while data[position + 1] == 0xFF:  # fill bytes
            position += 1
        marker = data[position + 1]
        if marker == EOI:
            yield marker, position, position + 2
            return
        if marker in STANDALONE:
            yield marker, position, position + 2
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        end = position + 2 + length
        if marker == SOS:
            end = _end_of_scan(data, end)
        yield marker, position, end
        position = end
    raise NotAJPEG("no end-of-image marker")


def _end_of_scan(data, position):
    """Where the compressed data after a start-of-scan header ends (the next real marker)."""
    while True:
        position = data.index(b"\xff", position)
        following = data[position + 1]
        if following == 0x00 or following in STANDALONE or following == 0xFF:
            position += 1 if following == 0xFF else 2
            continue
        return position


def _rewrite_jpeg(data):
    out = [b"\xff\xd8"]
    exif_written = False
    for marker, start, end in _segments(data):
        segment = data[start:end]
        payload = segment[4:]
        if marker == APP1 and payload.startswith(EXIF_HEADER):
            if exif_written:
                continue
            cleaned = _clean_exif(payload)
            out.append(b"\xff\xe1" + struct.pack(">H", len(cleaned) + 2) + cleaned)
            exif_written = True
            continue
        if marker == APP1 and payload.startswith(XMP_HEADERS):
            continue
        if marker == APP13 or (marker == APP2 and payload.startswith(b"MPF\x00")):
            continue
        out.append(segment)
    return b"".join(out)


def _check_same_picture(original, cleaned):
    """The rewritten file decodes to the same size and to a whole picture."""
    with PILImage.open(io.BytesIO(original)) as before, PILImage.open(io.BytesIO(cleaned)) as after:
        if before.size != after.size:
            raise ValueError("size changed")
        after.load()
        if ExifTags.IFD.GPSInfo in after.getexif():
            raise ValueError("location still present")


def _has_trailer_or_iptc(data):
    """IPTC (which may name the place) or bytes after the picture (a phone's extra image or video)."""
    return b"\xff\xed" in data[:65536] or not data.rstrip(b"\x00").endswith(b"\xff\xd9")


def _resave(data, fmt, **options):
    with PILImage.open(io.BytesIO(data)) as picture:
        picture.load()
        exif = picture.getexif()
        exif.pop(ExifTags.IFD.GPSInfo, None)
        out = io.BytesIO()
        save_options = {"exif": exif.tobytes()}
        if fmt != "PNG":
            save_options.update(options)
        if fmt == "JPEG" and picture.mode not in {"RGB", "L", "CMYK"}:
            picture = picture.convert("RGB")
        if fmt == "JPEG" and "icc_profile" in picture.info:
            save_options["icc_profile"] = picture.info["icc_profile"]
        picture.save(out, fmt, **save_options)
        return out.getvalue()
