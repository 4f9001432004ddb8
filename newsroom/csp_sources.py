"""Sources for the Content-Security-Policy that settings cannot write down by hand.

Other origins the site's own assets come from (a CDN in STATIC_URL or MEDIA_URL),
and the hashes of the inline styles the admin's rich-text editor injects.

The editor (Tiptap inside django-prose-editor) adds its base stylesheet as a <style>
element from JavaScript; a strict style-src blocks it unless its hash is allowed.
The styles are fixed strings in the shipped editor.js, so their hashes are computed
here from the installed package: an upgrade of the editor brings its new hashes along,
and nothing else inline is allowed. Imported by settings, so it imports no Django.
"""

import base64
import hashlib
import re
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

def origins(*urls):
    """The origins of the absolute URLs among `urls` (relative ones are this site)."""
    found = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in {"http", "https"} and parts.netloc:
            found.append(f"{parts.scheme}://{parts.netloc}")
    return found


# JavaScript template literals holding the editor's injected stylesheets.
INJECTED_STYLE = re.compile(r"`((?:\.ProseMirror|\.tiptap-)[^`$\\]*)`")


def editor_style_hashes():
    """CSP sources ('sha256-…') for each stylesheet editor.js injects; empty if none found."""
    spec = find_spec("django_prose_editor")
    if spec is None or not spec.origin:
        return []
    script = Path(spec.origin).parent / "static" / "django_prose_editor" / "editor.js"
    try:
        source = script.read_text(encoding="utf-8")
    except OSError:
        return []
    hashes = []
    for match in INJECTED_STYLE.finditer(source):
        digest = base64.b64encode(hashlib.sha256(match.group(1).encode("utf-8")).digest()).decode()
        source_hash = f"'sha256-{digest}'"
        if source_hash not in hashes:
            hashes.append(source_hash)
    return hashes
