"""Fill the read model (delivery.read_model) with every public page, resumably."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from delivery import read_model

CHUNK = 200


def _build_chunk(args):
    paths, origin, rebuild = args
    return read_model.build(paths, origin, rebuild=rebuild)


class Command(BaseCommand):
    help = (
        "Store every public page in the read model: those it lacks, or all again with --rebuild "
        "(after a deploy that changed templates). Interrupted, it picks up where it was: stored "
        "pages are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="render and store every page, stored or not")
        parser.add_argument("--origin", help="the origin pages are stored for (default: NEWSROOM_SITE_URL's)")
        parser.add_argument("--processes", type=int, default=1, help="render in this many processes (default 1)")
        parser.add_argument("--every", type=float, default=2.0, help="seconds between progress lines")

    def handle(self, *args, rebuild, origin, processes, every, **options):
        if not read_model.enabled():
            raise CommandError("The read model is off (NEWSROOM_READ_MODEL=0).")
        origin = read_model.origin_of(origin) if origin else read_model.site_origin()
        total = read_model.count_paths()
        started = last = time.monotonic()
        done = stored = kept = 0
        failed = []
        jobs = ((chunk, origin, rebuild) for chunk in read_model.chunks(read_model.every_path(), CHUNK))
        if processes > 1:
            import multiprocessing

            connections.close_all()  # each process opens its own
            pool = multiprocessing.get_context("fork").Pool(processes)
            results = pool.imap(_build_chunk, jobs)
        else:
            pool, results = None, map(_build_chunk, jobs)
        try:
            for new, had, lost in results:
                stored, kept, failed = stored + new, kept + had, failed + lost
                done = stored + kept + len(failed)
                now = time.monotonic()
                if now - last >= every:
                    last = now
                    rate = done / (now - started)
                    self.stdout.write(f"{done:>10,} / {total:,} pages  {rate:8.1f} pages/s  ({stored:,} stored)")
        finally:
            if pool is not None:
                pool.close()
                pool.join()
        elapsed = max(time.monotonic() - started, 1e-9)
        self.stdout.write(
            self.style.SUCCESS(
                f"{stored:,} stored, {kept:,} already stored, {len(failed)} not stored (not a 200 or 410, or failed: below), for {origin} "
                f"in {elapsed:.1f} s ({stored / elapsed:.1f} pages/s rendered)."
            )
        )
        for path in failed:
            self.stderr.write(f"not stored: {path}")
