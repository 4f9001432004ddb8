"""Photos and renditions in an S3-compatible bucket: django-storages' S3Storage, configured
from the environment by newsroom.media_storage, with two additions.

Photo addresses are printed from MEDIA_URL (botocore's own address of the bucket, worked
out once in settings) instead of asking botocore for every photo: the same addresses,
compared by the tests, at a hundredth of the cost on a list page. And `problem()` tells
the upload form, in one sentence an editor can act on, why the bucket cannot take a
photo now (unreachable, missing, credentials refused), or None.

Imported only when AWS_STORAGE_BUCKET_NAME is set, so a laptop never loads boto3.
"""

import logging
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError
from django.conf import settings
from django.utils.translation import gettext as _
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

logger = logging.getLogger("newsroom.media")


PRIVATE_FOLDER = "private"  # articles.photo_storage.PRIVATE: files readers may not fetch


class MediaStorage(S3Storage):
    """Photos in an S3-compatible bucket, at public addresses under MEDIA_URL."""

    def _relative_key(self, key):
        location = self.location.strip("/")
        return key[len(location) + 1 :] if location and key.startswith(location + "/") else key

    def _is_private(self, key):
        return self._relative_key(key).split("/", 1)[0] == PRIVATE_FOLDER

    def get_object_parameters(self, name):
        params = super().get_object_parameters(name)
        if self.default_acl and self._is_private(name):
            # Buckets opened to readers by object ACLs (AWS_DEFAULT_ACL=public-read): the
            # newsroom's private copies are written private all the same.
            params["ACL"] = "private"
        return params

    def copy_within(self, source, target):
        """Copy one object to another name in the bucket, server-side (photo_storage moves
        a photo between readers' place and the private one this way)."""
        source_key = self._normalize_name(clean_name(source))
        target_key = self._normalize_name(clean_name(target))
        extra = {}
        if self.default_acl:
            extra["ACL"] = "private" if self._is_private(target_key) else self.default_acl
        self.connection.meta.client.copy_object(
            Bucket=self.bucket_name,
            Key=target_key,
            CopySource={"Bucket": self.bucket_name, "Key": source_key},
            MetadataDirective="COPY",
            **extra,
        )

    def url(self, name, parameters=None, expire=None, http_method=None):
        if self.querystring_auth or self.custom_domain or parameters or http_method:
            return super().url(name, parameters, expire, http_method)
        # MEDIA_URL is botocore's own unsigned address of the bucket with AWS_LOCATION
        # (newsroom.media_storage.public_base_url); the key is quoted as botocore quotes it.
        key = self._normalize_name(clean_name(name))  # refuses names climbing out of the location
        location = self.location.strip("/")
        if location:
            key = key[len(location) + 1 :]
        return settings.MEDIA_URL + quote(key, safe="/~")

    def describe(self):
        """The bucket and service, as an operator would look them up."""
        where = self.endpoint_url or (f"Amazon S3 ({self.region_name})" if self.region_name else "Amazon S3")
        return f"“{self.bucket_name}” at {where}"

    def problem(self):
        """Why nothing can be stored now, in one sentence; None when the bucket answers."""
        try:
            self.connection.meta.client.head_bucket(Bucket=self.bucket_name)
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = str(error.response.get("Error", {}).get("Code", ""))
            logger.warning("media storage %s refused: %s", self.describe(), error)
            if status == 404 or code in {"404", "NoSuchBucket"}:
                return _("The photo storage bucket %(where)s does not exist.") % {"where": self.describe()}
            if status in {401, 403} or code in {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
                return _("The photo storage %(where)s refused the newsroom's credentials.") % {"where": self.describe()}
            return _("The photo storage %(where)s answered with an error (%(code)s).") % {
                "where": self.describe(),
                "code": code or status,
            }
        except NoCredentialsError:
            return _("No credentials are set for the photo storage %(where)s.") % {"where": self.describe()}
        except EndpointConnectionError as error:
            logger.warning("media storage %s unreachable: %s", self.describe(), error)
            return _("The photo storage %(where)s cannot be reached.") % {"where": self.describe()}
        except BotoCoreError as error:
            logger.warning("media storage %s failed: %s", self.describe(), error)
            return _("The photo storage %(where)s is not answering (%(error)s).") % {
                "where": self.describe(),
                "error": type(error).__name__,
            }
        return None

