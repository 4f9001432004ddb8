"""Is the photo storage there? Asked before an upload is accepted, answered for any storage.

`storage_problem(storage)` gives one sentence an editor can act on (the bucket cannot be
reached, does not exist, refuses the newsroom; the media folder is not writable), or None.
`is_storage_failure(exception)` tells whether an exception came from the service behind
the storage (botocore's errors), never from what someone typed.
"""

import os
import sys

from django.core.files.storage import FileSystemStorage
from django.utils.translation import gettext as _


def storage_problem(storage):
    """One sentence on why `storage` cannot take a file now, or None when it can."""
    if callable(getattr(storage, "problem", None)):
        return storage.problem()
    if isinstance(storage, FileSystemStorage):
        root = storage.location
        try:
            os.makedirs(root, exist_ok=True)
        except OSError as error:
            return _("The media folder %(root)s cannot be created (%(error)s).") % {"root": root, "error": error.strerror}
        if not os.access(root, os.W_OK | os.X_OK):
            return _("The media folder %(root)s is not writable by the newsroom.") % {"root": root}
    return None


def is_storage_failure(exception):
    """True for the errors an S3-compatible service raises through boto3 (unreachable,
    timed out, refused, missing bucket). boto3 is only loaded when media live in a bucket."""
    botocore_exceptions = sys.modules.get("botocore.exceptions")
    if botocore_exceptions is None:
        return False
    return isinstance(exception, (botocore_exceptions.BotoCoreError, botocore_exceptions.ClientError))
