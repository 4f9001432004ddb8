"""A whole newsroom in one file, and back: every app's rows plus the media files they name.

`backup_newsroom OUT.tar.gz` writes

    manifest.json   format, time, applied migrations, rows per model, each file's size and SHA-256
    data.json       dumpdata of every installed app (natural keys for content types and permissions)
    media/<name>    each file a FileField or ImageField points at, read through its storage
                    (the local media folder or an S3-compatible bucket alike)

Nothing is listed by hand: a model added later by any app is in the next backup. Left out
are only rows that `migrate` makes again or that are not worth keeping (content types,
permissions, sessions, sign-in throttling records).

`restore_newsroom IN.tar.gz` loads it into a freshly migrated, empty database, checks
every file against the manifest and writes it back under the same name; if anything
fails, the database is left as it was and the files written so far are removed.
"""

import hashlib
import io
import json
import os
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.core.files.base import ContentFile
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from newsroom.storage import storage_problem

FORMAT = "newsroom-backup/1"
SERIALIZER = "newsroom_json"  # Django's JSON, times kept to the microsecond (precise_json.py)

# Rows `migrate` recreates, or that have no value once restored elsewhere.
EXCLUDED = [
    "contenttypes.ContentType",
    "auth.Permission",
    "sessions.Session",
    "axes.AccessAttempt",
    "axes.AccessLog",
    "axes.AccessFailureLog",
    # The task queue: deliveries of changes already in the backup. After a restore the pages
    # are rebuilt from the restored stories (static_rebuild, a CDN purge of the site key).
    "django_tasks_database.DBTaskResult",
]
# Rows `migrate` makes in an empty database (the role groups, the review deadlines' defaults)
# that a restore replaces with the backup's.
REPLACED_ON_RESTORE = ["auth.Group", "editorial.StageDeadline"]

CHUNK = 1024 * 1024


def backed_up_models():
    """Every concrete model whose rows go into a backup, in registry order."""
    excluded = set(EXCLUDED)
    return [
        model
        for model in apps.get_models()
        if model._meta.label not in excluded and not model._meta.proxy and model._meta.managed
    ]


def _file_fields(model):
    return [field for field in model._meta.concrete_fields if isinstance(field, models.FileField)]


def stored_files():
    """{name: storage} of every file a row of a backed-up model points at."""
    found = {}
    for model in backed_up_models():
        for field in _file_fields(model):
            names = model._base_manager.exclude(**{field.attname: ""}).exclude(**{f"{field.attname}__isnull": True})
            for name in names.values_list(field.attname, flat=True).iterator():
                found.setdefault(name, field.storage)
    return found


def require_media_storage(storages):
    """Stop before anything is written when a media storage (a bucket) cannot be used."""
    seen = []
    for storage in storages:
        if any(storage is other for other in seen):
            continue
        seen.append(storage)
        problem = storage_problem(storage)
        if problem:
            raise CommandError(f"{problem} Nothing was written; check the media storage settings and try again.")


def applied_migrations(using=DEFAULT_DB_ALIAS):
    recorder = MigrationRecorder(connections[using])
    return sorted([app, name] for app, name in recorder.applied_migrations())


def _safe_member_name(name):
    """A media file name inside the archive, refusing anything that climbs out of media/."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not name or "\\" in name:
        raise CommandError(f"Refusing unsafe file name in backup: {name!r}")
    return name


def _add_bytes(archive, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(timezone.now().timestamp())
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def create_backup(out_path, *, using=DEFAULT_DB_ALIAS, stdout=None):
    """Write the backup to `out_path` (a .tar.gz); returns the manifest."""
    out_path = Path(out_path)
    partial = out_path.with_name(out_path.name + ".partial")
    with tempfile.TemporaryDirectory() as work:
        data_path = Path(work) / "data.json"
        serializers.register_serializer(SERIALIZER, "newsroom.precise_json")
        call_command(
            "dumpdata",
            format=SERIALIZER,
            exclude=EXCLUDED,
            natural_foreign=True,
            use_base_manager=True,
            database=using,
            output=str(data_path),
            verbosity=0,
        )
        counts = {
            model._meta.label: model._base_manager.using(using).count() for model in backed_up_models()
        }
        manifest = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "migrations": applied_migrations(using),
            "models": counts,
            "files": {},
            "missing_files": [],
        }
        files = stored_files()
        require_media_storage(files.values())
        try:
            with tarfile.open(partial, "w:gz") as archive:
                archive.add(data_path, arcname="data.json")
                for name, storage in sorted(files.items()):
                    _safe_member_name(name)
                    if not storage.exists(name):
                        manifest["missing_files"].append(name)
                        continue
                    digest, size = hashlib.sha256(), 0
                    spooled = tempfile.SpooledTemporaryFile(max_size=8 * CHUNK)
                    with storage.open(name, "rb") as source:
                        for chunk in iter(lambda: source.read(CHUNK), b""):
                            digest.update(chunk)
                            size += len(chunk)
                            spooled.write(chunk)
                    spooled.seek(0)
                    info = tarfile.TarInfo(f"media/{name}")
                    info.size = size
                    info.mode = 0o644
                    archive.addfile(info, spooled)
                    spooled.close()
                    manifest["files"][name] = {"size": size, "sha256": digest.hexdigest()}
                _add_bytes(archive, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
            os.replace(partial, out_path)
        finally:
            partial.unlink(missing_ok=True)
    return manifest


def _rows_in_the_way(using):
    """{label: count} of backed-up models that already hold rows (a restore needs none)."""
    replaced = set(REPLACED_ON_RESTORE)
    busy = {}
    for model in backed_up_models():
        if model._meta.label in replaced:
            continue
        count = model._base_manager.using(using).count()
        if count:
            busy[model._meta.label] = count
    return busy


@contextmanager
def _open_backup(in_path):
    try:
        archive = tarfile.open(in_path, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise CommandError(f"{in_path} is not a newsroom backup: {exc}") from None
    with archive:
        yield archive


def _read_member(archive, name):
    try:
        member = archive.getmember(name)
    except KeyError:
        raise CommandError(f"The backup has no {name}; it is incomplete.") from None
    if not member.isfile():
        raise CommandError(f"Refusing {name}: not a regular file.")
    return archive.extractfile(member)


def restore_backup(in_path, *, using=DEFAULT_DB_ALIAS):
    """Load the backup at `in_path` into the empty database `using`; returns the manifest."""
    with _open_backup(in_path) as archive:
        manifest = json.load(_read_member(archive, "manifest.json"))
        if manifest.get("format") != FORMAT:
            raise CommandError(f"Unknown backup format {manifest.get('format')!r}; expected {FORMAT}.")
        unknown = {tuple(m) for m in manifest["migrations"]} - {tuple(m) for m in applied_migrations(using)}
        if unknown:
            listed = ", ".join(f"{app}.{name}" for app, name in sorted(unknown)[:5])
            raise CommandError(
                f"The backup was made by a newer version (migrations not applied here: {listed}). "
                "Update the code and run migrate first."
            )
        busy = _rows_in_the_way(using)
        if busy:
            listed = ", ".join(f"{label} ({count})" for label, count in sorted(busy.items()))
            raise CommandError(
                "Restore only into an empty, freshly migrated database; this one already holds: " + listed
            )
        for name in manifest["files"]:
            _safe_member_name(name)
        require_media_storage([field.storage for model in backed_up_models() for field in _file_fields(model)])

        written = []
        try:
            with tempfile.TemporaryDirectory() as work, transaction.atomic(using=using):
                for label in REPLACED_ON_RESTORE:
                    apps.get_model(label)._base_manager.using(using).all().delete()
                data_path = Path(work) / "data.json"
                with open(data_path, "wb") as target:
                    source = _read_member(archive, "data.json")
                    for chunk in iter(lambda: source.read(CHUNK), b""):
                        target.write(chunk)
                ContentType.objects.clear_cache()  # natural keys must resolve to this database's ids
                call_command("loaddata", str(data_path), database=using, verbosity=0)
                storages = stored_files()
                for name, expected in sorted(manifest["files"].items()):
                    data = _read_member(archive, f"media/{name}").read()
                    if len(data) != expected["size"] or hashlib.sha256(data).hexdigest() != expected["sha256"]:
                        raise CommandError(f"The backup's copy of {name} is damaged (size or checksum differ).")
                    storage = storages.get(name, default_storage)
                    if storage.exists(name):
                        storage.delete(name)
                    saved = storage.save(name, ContentFile(data))
                    written.append((storage, saved))
                    if saved != name:
                        raise CommandError(f"Could not write {name} under its own name (got {saved}).")
        except Exception:
            for storage, name in written:
                storage.delete(name)
            raise
    return manifest
