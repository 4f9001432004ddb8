"""Settings for keeping photos and renditions in S3-compatible object storage.

Imported by settings, so it imports nothing of Django but ImproperlyConfigured.
`apply_s3_media(globals(), os.environ)` at the end of settings reads the standard
django-storages variable names from the environment and, when AWS_STORAGE_BUCKET_NAME is
set, changes the settings to match; unset, nothing changes and media stay on the local
disk, as on a laptop. Every mistake it can see in the variables is refused with a
message naming the variable and what to write instead.

Objects are public-read by design: readers fetch photos straight from the bucket (or
the CDN in front of it) at stable, cacheable addresses, and no one finds a photo of an
unpublished story because every name carries 128 random bits (articles.models.
photo_upload_to). Anonymous readers may get objects but never list the bucket; see
docs/deploy/media-storage.md for the bucket policy.
"""

import functools
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from newsroom.csp_sources import origins

STORAGE_BACKEND = "newsroom.s3.MediaStorage"

# Names never repeat (random originals, renditions with their own random part), and a
# changed photo gets a new name: browsers and CDNs may keep an object for a year.
PUBLIC_CACHE_CONTROL = "public, max-age=31536000, immutable"

# Where the address of one object is asked of botocore, to learn the bucket's public base.
_PROBE_KEY = "newsroom-address-probe"


def _flag(environ, name, default=False):
    value = (environ.get(name) or "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={environ.get(name)!r}: write 1 (on) or 0 (off).")


def _number(environ, name, default, kind=float):
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if value <= 0:
        raise ImproperlyConfigured(f"{name}={raw!r} must be more than 0.")
    return value


def _custom_domain(environ):
    """(domain with optional path, "https:" or "http:") from AWS_S3_CUSTOM_DOMAIN.

    django-storages wants a bare host (cdn.example.cn or cdn.example.cn/media); people
    often paste a whole address, so a leading https:// or http:// is taken as the
    protocol instead of ending up twice in every photo address.
    """
    raw = (environ.get("AWS_S3_CUSTOM_DOMAIN") or "").strip().rstrip("/")
    protocol = (environ.get("AWS_S3_URL_PROTOCOL") or "https:").strip()
    if protocol not in {"https:", "http:"}:
        raise ImproperlyConfigured(f"AWS_S3_URL_PROTOCOL={protocol!r}: write https: or http:.")
    if not raw:
        return None, protocol
    if "://" in raw:
        parts = urlsplit(raw)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
            raise ImproperlyConfigured(
                f"AWS_S3_CUSTOM_DOMAIN={raw!r}: give the media host, e.g. cdn.example.cn or https://cdn.example.cn/media."
            )
        return parts.netloc + parts.path, f"{parts.scheme}:"
    if any(character in raw for character in "?#@ "):
        raise ImproperlyConfigured(f"AWS_S3_CUSTOM_DOMAIN={raw!r}: give the media host, e.g. cdn.example.cn.")
    return raw, protocol


def _endpoint(environ):
    raw = (environ.get("AWS_S3_ENDPOINT_URL") or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ImproperlyConfigured(
            f"AWS_S3_ENDPOINT_URL={raw!r}: give the whole address of the S3 service, "
            "e.g. https://minio.example.cn:9000 or https://oss-cn-hangzhou.aliyuncs.com."
        )
    return raw.rstrip("/")


def client_config(environ, *, addressing_style=None, signature_version=None):
    """Timeouts and retries for talking to the bucket: an unreachable service is reported
    to the editor within seconds instead of holding the upload for minutes.

    django-storages takes AWS_S3_ADDRESSING_STYLE and AWS_S3_SIGNATURE_VERSION only when
    it builds the client's Config itself, so they are carried into this one.
    """
    from botocore.config import Config

    retry_mode = (environ.get("AWS_RETRY_MODE") or "standard").strip()
    if retry_mode not in {"standard", "adaptive", "legacy"}:
        raise ImproperlyConfigured(f"AWS_RETRY_MODE={retry_mode!r}: write standard, adaptive or legacy.")
    return Config(
        connect_timeout=_number(environ, "NEWSROOM_S3_CONNECT_TIMEOUT", 5.0),
        read_timeout=_number(environ, "NEWSROOM_S3_READ_TIMEOUT", 30.0),
        retries={"mode": retry_mode, "total_max_attempts": _number(environ, "AWS_MAX_ATTEMPTS", 3, int)},
        s3={"addressing_style": addressing_style} if addressing_style else None,
        signature_version=signature_version,
    )


def public_base_url(*, bucket, endpoint_url=None, region=None, addressing_style=None, location="",
                    custom_domain=None, url_protocol="https:"):
    """The address every object's address starts with (ends with "/").

    With a custom domain it is that domain. Otherwise botocore, the library that will
    print the addresses, is asked for one object's unsigned address, so path-style or
    virtual-host addresses, regions and partitions come out exactly as it makes them.
    """
    prefix = f"{location.strip('/')}/" if location.strip("/") else ""
    if custom_domain:
        return f"{url_protocol}//{custom_domain}/{prefix}"
    client = _unsigned_client(region, endpoint_url, addressing_style)
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": prefix + _PROBE_KEY})
    return url.split("?", 1)[0][: -len(_PROBE_KEY)]


@functools.lru_cache(maxsize=8)
def _unsigned_client(region, endpoint_url, addressing_style):
    """A client that only prints addresses (it never signs or sends a request)."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    config = Config(signature_version=UNSIGNED, s3={"addressing_style": addressing_style} if addressing_style else None)
    return boto3.session.Session().client("s3", region_name=region, endpoint_url=endpoint_url, config=config)


def s3_media_settings(environ):
    """The settings that put media in the bucket named by AWS_STORAGE_BUCKET_NAME, or {}."""
    bucket = (environ.get("AWS_STORAGE_BUCKET_NAME") or "").strip()
    if not bucket:
        return {}
    access_key = (environ.get("AWS_ACCESS_KEY_ID") or "").strip() or None
    secret_key = (environ.get("AWS_SECRET_ACCESS_KEY") or "").strip() or None
    if bool(access_key) != bool(secret_key):
        missing = "AWS_SECRET_ACCESS_KEY" if access_key else "AWS_ACCESS_KEY_ID"
        raise ImproperlyConfigured(
            f"{missing} is missing: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither "
            "(then boto3 finds credentials itself, e.g. from the server's IAM role)."
        )
    endpoint_url = _endpoint(environ)
    region = (environ.get("AWS_S3_REGION_NAME") or "").strip() or None
    addressing_style = (environ.get("AWS_S3_ADDRESSING_STYLE") or "").strip() or None
    if addressing_style not in {None, "path", "virtual", "auto"}:
        raise ImproperlyConfigured(f"AWS_S3_ADDRESSING_STYLE={addressing_style!r}: write path or virtual.")
    signature_version = (environ.get("AWS_S3_SIGNATURE_VERSION") or "").strip() or None
    location = (environ.get("AWS_LOCATION") or "").strip().strip("/")
    custom_domain, url_protocol = _custom_domain(environ)
    querystring_auth = _flag(environ, "AWS_QUERYSTRING_AUTH", default=False)
    if querystring_auth and custom_domain:
        raise ImproperlyConfigured(
            "AWS_QUERYSTRING_AUTH=1 with AWS_S3_CUSTOM_DOMAIN: addresses on a custom domain are not signed, "
            "so private objects would not show. Keep objects public-read behind the domain (the default), "
            "or drop the custom domain."
        )
    object_parameters = {} if querystring_auth else {"CacheControl": PUBLIC_CACHE_CONTROL}
    return {
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": endpoint_url,
        "AWS_S3_REGION_NAME": region,
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_S3_ADDRESSING_STYLE": addressing_style,
        "AWS_S3_SIGNATURE_VERSION": signature_version,
        "AWS_LOCATION": location,
        "AWS_S3_CUSTOM_DOMAIN": custom_domain,
        "AWS_S3_URL_PROTOCOL": url_protocol,
        "AWS_QUERYSTRING_AUTH": querystring_auth,
        "AWS_QUERYSTRING_EXPIRE": _number(environ, "AWS_QUERYSTRING_EXPIRE", 3600, int),
        "AWS_DEFAULT_ACL": (environ.get("AWS_DEFAULT_ACL") or "").strip() or None,
        # Never replace an object silently: a name already taken gets a new one.
        "AWS_S3_FILE_OVERWRITE": False,
        "AWS_S3_OBJECT_PARAMETERS": object_parameters,
        "AWS_S3_CLIENT_CONFIG": client_config(environ, addressing_style=addressing_style, signature_version=signature_version),
        "MEDIA_URL": public_base_url(
            bucket=bucket,
            endpoint_url=endpoint_url,
            region=region,
            addressing_style=addressing_style,
            location=location,
            custom_domain=custom_domain,
            url_protocol=url_protocol,
        ),
        # Django serving /media/ from a local folder makes no sense once media live in a bucket.
        "NEWSROOM_SERVE_MEDIA": False,
        "NEWSROOM_MEDIA_IN_OBJECT_STORAGE": True,
    }


def apply_s3_media(namespace, environ):
    """Put media in the bucket `environ` names: change the settings in `namespace` (the
    settings module's globals()). Returns the names changed, none without a bucket.

    STORAGES["default"] becomes django-storages (MediaStorage), MEDIA_URL the bucket's
    public address, Django stops serving /media/, and the Content-Security-Policy lets
    pages show images from that address's origin.
    """
    derived = s3_media_settings(environ)
    if not derived:
        return []
    namespace.update(derived)
    namespace["STORAGES"] = {**namespace["STORAGES"], "default": {"BACKEND": STORAGE_BACKEND}}
    policy = namespace["CONTENT_SECURITY_POLICY"]
    img_src = list(policy["DIRECTIVES"]["img-src"])
    img_src += [origin for origin in origins(derived["MEDIA_URL"]) if origin not in img_src]
    namespace["CONTENT_SECURITY_POLICY"] = {**policy, "DIRECTIVES": {**policy["DIRECTIVES"], "img-src": img_src}}
    return [*derived, "STORAGES", "CONTENT_SECURITY_POLICY"]
