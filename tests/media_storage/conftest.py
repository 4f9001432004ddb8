"""A real S3-compatible server for the media storage tests: moto in server mode on
127.0.0.1, started once per test run, with a fresh bucket for each test.

Settings are derived from an environment exactly as newsroom/settings.py derives them
(newsroom.media_storage.apply_s3_media), so a test sees what a server started with those
AWS_* variables would do.
"""

import json
import logging
import socket
import time
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from moto.server import ThreadedMotoServer
from storages.backends.s3 import S3Storage

from newsroom.media_storage import apply_s3_media
from tests.ports import free_port

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "newsroom-tests", "AWS_SECRET_ACCESS_KEY": "not-a-secret"}
REGION = "us-east-1"


def public_read_policy(bucket):
    """What docs/deploy/media-storage.md asks for: anyone may get a rendition, nothing more
    (originals stay with the newsroom, as nginx keeps /media/photos/ off the public site)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadersGetPhotos",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/renditions/*",
                }
            ],
        }
    )


@pytest.fixture(scope="session")
def s3_endpoint():
    """The address of a running S3-compatible server (moto), stopped after the run."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                pytest.fail(f"moto's S3 server did not start on {endpoint}")
            time.sleep(0.05)
    yield endpoint
    server.stop()


# boto3 reads the whole S3 service description into each new session (a third of a
# second); tests build a new storage for each test, so they share one session per
# set of credentials instead.
_SESSIONS = {}


def shared_session(access_key=None, secret_key=None, token=None, profile=None):
    key = (access_key, secret_key, token, profile)
    if key not in _SESSIONS:
        _SESSIONS[key] = boto3.session.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, aws_session_token=token, profile_name=profile
        )
    return _SESSIONS[key]


@pytest.fixture(autouse=True)
def _one_boto_session_per_credentials(monkeypatch):
    monkeypatch.setattr(
        S3Storage,
        "_create_session",
        lambda storage: shared_session(storage.access_key, storage.secret_key, storage.security_token, storage.session_profile),
    )


class Bucket:
    """One bucket on the test server, seen the way an operator would look at it."""

    def __init__(self, endpoint, name):
        self.endpoint = endpoint
        self.name = name
        self.client = shared_session().client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def create(self):
        self.client.create_bucket(Bucket=self.name)
        self.client.put_bucket_policy(Bucket=self.name, Policy=public_read_policy(self.name))
        return self

    def keys(self, prefix=""):
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))

    def names(self, prefix=""):
        """The stored names (Image.file, Rendition.file) the bucket holds, in readers' place
        or in the private one (articles.photo_storage)."""
        found = (key.removeprefix("private/") for key in self.keys())
        return sorted(name for name in found if name.startswith(prefix))

    def key_of(self, name):
        """Where the bucket holds the stored name `name`: its private copy, or readers' one."""
        keys = set(self.keys())
        return next(key for key in (f"private/{name}", name) if key in keys)

    def read(self, name):
        return self.client.get_object(Bucket=self.name, Key=self.key_of(name))["Body"].read()

    def head(self, name):
        return self.client.head_object(Bucket=self.name, Key=self.key_of(name))

    def put(self, key, data):
        self.client.put_object(Bucket=self.name, Key=key, Body=data)

    def empty(self):
        for key in self.keys():
            self.client.delete_object(Bucket=self.name, Key=key)


def fetch(url):
    """GET `url` as a reader's browser would (no credentials): (status, content type, bytes)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def use_environment(settings, environ):
    """Change `settings` as newsroom/settings.py would for a server started with `environ`."""
    namespace = {"STORAGES": settings.STORAGES, "CONTENT_SECURITY_POLICY": settings.CONTENT_SECURITY_POLICY}
    changed = apply_s3_media(namespace, environ)
    # STORAGES last: changing it makes Django build the storage again, from the new AWS_* values.
    for name in sorted(changed, key=lambda name: name == "STORAGES"):
        setattr(settings, name, namespace[name])
    return changed


def s3_environ(endpoint, bucket, **extra):
    """The environment of a newsroom keeping its media in `bucket` on `endpoint`."""
    return {
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_S3_REGION_NAME": REGION,
        "AWS_MAX_ATTEMPTS": "1",  # a refused connection is reported at once
        **CREDENTIALS,
        **extra,
    }


@pytest.fixture
def bucket(s3_endpoint, settings):
    """A new public-read bucket on the S3 server, and the newsroom's media in it."""
    created = Bucket(s3_endpoint, f"newsroom-media-{uuid.uuid4().hex[:12]}").create()
    use_environment(settings, s3_environ(s3_endpoint, created.name))
    return created


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a change as if its transaction committed (files follow commits)."""

    def run(change, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return change(*args, **kwargs)

    return run
