"""A real PostgreSQL streaming replica of the test server, made for this test run.

The session fixture `streaming_replica` copies the running PostgreSQL cluster with
`pg_basebackup -R` into a temporary folder, starts it as a hot standby on a free port of
127.0.0.1 (as the `postgres` OS user when the tests run as root: PostgreSQL refuses to run
as root), waits until it streams, and stops and removes it at the end. The test database
that pytest-django creates on the primary reaches the replica by streaming, like any
other change.

The primary must allow it. On Debian's PostgreSQL 15 the defaults are right except
pg_hba.conf, which needs this line (then `SELECT pg_reload_conf()`); `.ci/run` adds it:

    host replication postgres 127.0.0.1/32 trust

and postgresql.conf must keep `wal_level = replica` (or logical) and `max_wal_senders > 0`.

`replica_alias` (per module) puts the replica in the settings as alias `replica1`, pointing
at the test database on the replica's port; `replica` (per test) installs the router and
middleware that DATABASE_REPLICA_URLS would. Tests need committed data and the alias:
`django_db(transaction=True, databases=["default", "replica1"])`.

The copy is of the whole cluster, so its time grows with whatever else the server holds
(benchmark databases); the time taken is printed at the end of the run. Under pytest-xdist the
tests that need it all run on one worker (xdist_group in test_read_replicas.py), so it is made
once; the copy holds every worker's test database, and `replica1` names that worker's own
(pytest-django adds _gw0, _gw1... to the name).
"""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.ports import free_port

ALIAS = "replica1"
HBA_LINE = "host replication postgres 127.0.0.1/32 trust"
_timings = {}


def _summary():
    return (
        "streaming replica for tests/replicas: base backup {backup:.1f} s, start and catch-up {start:.1f} s "
        "(cluster copied: {size})".format(**_timings)
    )


def pytest_terminal_summary(terminalreporter):
    if _timings:
        terminalreporter.write_line(_summary())


class StreamingReplica:
    """A hot standby in `folder`, streaming from the primary described by `primary`."""

    def __init__(self, primary, folder, bindir):
        self.primary = primary
        self.folder = folder
        self.data = folder / "data"
        self.bindir = bindir
        self.port = free_port()
        self.name = f"newsroom_test_replica_{os.getpid()}"

    # --- running PostgreSQL programs --------------------------------------------------

    def _as_owner(self, *command):
        """Run a PostgreSQL program as the `postgres` OS user when we are root."""
        if os.geteuid() == 0:
            command = ("runuser", "-u", "postgres", "--", *command)
        return subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=self.folder)

    def _pg_ctl(self, *args):
        return self._as_owner(str(self.bindir / "pg_ctl"), "-D", str(self.data), *args)

    # --- SQL ----------------------------------------------------------------------------

    def _connect(self, port, dbname="postgres"):
        import psycopg2

        connection = psycopg2.connect(
            host="127.0.0.1",
            port=port,
            user=self.primary["USER"] or "postgres",
            password=self.primary["PASSWORD"] or None,
            dbname=dbname,
            connect_timeout=5,
        )
        connection.autocommit = True
        return connection

    def primary_sql(self, sql, *params):
        connection = self._connect(self.primary["PORT"] or 5432)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            connection.close()

    def sql(self, sql, *params):
        connection = self._connect(self.port)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else None
        finally:
            connection.close()

    # --- life cycle ---------------------------------------------------------------------

    def create(self):
        settings = dict(
            self.primary_sql(
                "SELECT name, setting FROM pg_settings WHERE name IN ('wal_level', 'max_wal_senders', "
                "'max_connections', 'max_worker_processes', 'max_prepared_transactions', "
                "'max_locks_per_transaction', 'server_version_num')"
            )
        )
        if settings["wal_level"] == "minimal" or settings["max_wal_senders"] == "0":
            pytest.fail(
                "The test PostgreSQL server cannot feed a replica: set wal_level = replica and "
                "max_wal_senders = 10 in postgresql.conf and restart it (.ci/run does this)."
            )
        size = self.primary_sql("SELECT pg_size_pretty(sum(pg_database_size(datname))) FROM pg_database")[0][0]
        started = time.monotonic()
        conninfo = (
            f"host=127.0.0.1 port={self.primary['PORT'] or 5432} user={self.primary['USER'] or 'postgres'} "
            f"application_name={self.name}"
        )
        result = self._as_owner(
            str(self.bindir / "pg_basebackup"),
            "--pgdata", str(self.data),
            "--write-recovery-conf",
            "--wal-method=stream",
            "--checkpoint=fast",
            "--no-sync",
            "--no-manifest",
            "--dbname", conninfo,
        )  # fmt: skip
        if result.returncode != 0:
            advice = ""
            if "pg_hba.conf" in result.stderr or "replication" in result.stderr:
                advice = (
                    f"\nThe primary refuses replication connections from 127.0.0.1. Add this line to its "
                    f"pg_hba.conf (SHOW hba_file tells where), then run SELECT pg_reload_conf():\n    {HBA_LINE}\n"
                    ".ci/run does this on CI."
                )
            pytest.fail(f"pg_basebackup failed:\n{result.stderr}{advice}")
        backup = time.monotonic() - started

        # Debian keeps the configuration outside the data folder, so the copy has none.
        # A hot standby needs these limits at least as high as its primary's.
        limits = "\n".join(
            f"{name} = {settings[name]}"
            for name in (
                "max_connections", "max_worker_processes", "max_prepared_transactions", "max_locks_per_transaction"
            )
        )  # fmt: skip
        (self.data / "postgresql.conf").write_text(
            f"port = {self.port}\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.folder}'\n"
            "hot_standby = on\n"
            "shared_buffers = 16MB\n"
            f"max_wal_senders = {settings['max_wal_senders']}\n"
            f"{limits}\n"
            "fsync = off\n"  # a throwaway copy
            "logging_collector = off\n"
        )
        (self.data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        (self.data / "pg_ident.conf").write_text("")
        if os.geteuid() == 0:
            shutil.chown(self.data / "postgresql.conf", "postgres", "postgres")
            shutil.chown(self.data / "pg_hba.conf", "postgres", "postgres")
            shutil.chown(self.data / "pg_ident.conf", "postgres", "postgres")
        started = time.monotonic()
        self.start()
        _timings.update(backup=backup, start=time.monotonic() - started, size=size)

    def start(self, timeout=600):
        """Start the standby and wait until it answers queries and streams.

        A hot standby opens for queries only once it has a complete picture of the
        transactions running on the primary: while the primary holds a transaction with
        more than 64 subtransactions open (a long test wrapped in savepoints, on a server
        shared with other test runs), it waits for that transaction to end. Hence the
        generous timeout."""
        result = self._pg_ctl("-l", str(self.folder / "replica.log"), "start")
        if result.returncode != 0:
            pytest.fail(f"The replica did not start:\n{result.stdout}{result.stderr}\n{self._log()}")
        began = time.monotonic()
        deadline = began + timeout
        while True:
            try:
                self.sql("SELECT 1")
                break
            except Exception as error:  # noqa: BLE001 - not accepting connections yet
                # (pg_ctl status knows the server only once it has written its pid file)
                if time.monotonic() - began > 10 and not self.is_running():
                    pytest.fail(f"The replica stopped while starting:\n{self._log()}")
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"The replica did not accept read-only connections within {timeout} s ({error}). "
                        "A hot standby waits for long transactions with many subtransactions on the "
                        f"primary to finish:\n{self._log()}"
                    )
                time.sleep(0.2)
        self.wait_until_streaming()

    def _log(self):
        log = self.folder / "replica.log"
        return log.read_text()[-3000:] if log.exists() else ""

    def stop(self):
        self._pg_ctl("-m", "immediate", "-w", "stop")

    def is_running(self):
        return self._pg_ctl("status").returncode == 0

    def wait_until_streaming(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.primary_sql("SELECT state FROM pg_stat_replication WHERE application_name = %s", self.name)
            if rows and rows[0][0] == "streaming":
                self.wait_until_current()
                return
            time.sleep(0.1)
        pytest.fail(f"The replica never started streaming from the primary:\n{self._log()}")

    def wait_until_current(self, timeout=30):
        """Until the replica has replayed everything the primary had written when called."""
        target = self.primary_sql("SELECT pg_current_wal_lsn()::text")[0][0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", target)[0][0]:
                return
            time.sleep(0.02)
        pytest.fail(f"The replica did not replay up to {target} within {timeout} s")

    def pause(self):
        """Stop replaying the primary's changes (they are still received): the replica lags."""
        self.sql("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + 10
        while self.sql("SELECT pg_get_wal_replay_pause_state()")[0][0] != "paused":
            if time.monotonic() > deadline:
                pytest.fail("The replica did not pause its replay")
            time.sleep(0.02)

    def resume(self):
        self.sql("SELECT pg_wal_replay_resume()")

    def destroy(self):
        if self.data.exists():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _bindir(primary_version_num):
    major = int(primary_version_num) // 10000
    debian = Path(f"/usr/lib/postgresql/{major}/bin")
    if (debian / "pg_basebackup").exists():
        return debian
    found = shutil.which("pg_basebackup")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    pytest.fail(
        f"PostgreSQL {major}'s server programs (pg_basebackup, pg_ctl, postgres) were not found: "
        f"install Debian's postgresql-{major} package."
    )


@pytest.fixture(scope="session")
def streaming_replica(django_db_setup, request):
    from django.db import connections

    primary = connections["default"].settings_dict
    if connections["default"].vendor != "postgresql":
        pytest.skip(
            "read replicas are PostgreSQL streaming replicas; this run uses SQLite "
            "(run with DATABASE_URL=postgres://..., as CI does, to test them)"
        )
    folder = Path(tempfile.mkdtemp(prefix="newsroom-replica-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    replica = StreamingReplica(primary, folder, bindir=None)
    try:
        version = replica.primary_sql("SHOW server_version_num")[0][0]
        replica.bindir = _bindir(version)
        replica.create()
        # Under xdist this runs in a worker, whose terminal nobody sees: the line goes back to
        # the main process with the worker's results (tests/conftest.py prints it).
        if hasattr(request.config, "workeroutput"):
            request.config.workeroutput.setdefault("summary_lines", []).append(_summary())
        yield replica
    finally:
        replica.destroy()


@pytest.fixture(scope="module")
def replica_alias(streaming_replica):
    """`replica1` in DATABASES for a module: the test database's name on the replica's port.

    Module-scoped so that it exists before pytest-django builds each test's TestCase, whose
    `databases` (from the module's django_db marker) must name it. TEST MIRROR keeps Django
    from creating or flushing a database there: the primary's flush streams to it."""
    from django.conf import settings as django_settings
    from django.db import connections

    config = {
        **connections["default"].settings_dict,  # the test database's name, set by pytest-django
        "HOST": "127.0.0.1",
        "PORT": streaming_replica.port,
        "TEST": {"CHARSET": None, "COLLATION": None, "MIGRATE": True, "MIRROR": "default", "NAME": None},
    }
    config["OPTIONS"] = {**config.get("OPTIONS", {}), "connect_timeout": 3}
    connections.settings[ALIAS] = config
    assert ALIAS in django_settings.DATABASES  # the router reads the same dict
    yield ALIAS
    connections[ALIAS].close()
    try:
        del connections[ALIAS]
    except AttributeError:  # never connected in this thread
        pass
    del connections.settings[ALIAS]


@pytest.fixture
def replica(replica_alias, streaming_replica, settings):
    """The replica router and middleware installed as DATABASE_REPLICA_URLS would, the replica
    streaming and current; put back afterwards. The test needs committed data:
    mark it django_db(transaction=True, databases=["default", "replica1"])."""
    from newsroom import db_router

    if not streaming_replica.is_running():
        streaming_replica.start()
    streaming_replica.resume()
    # Installing the router turns on ReadYourWritesMiddleware, which MIDDLEWARE always lists.
    settings.DATABASE_ROUTERS = [db_router.ROUTER]
    settings.NEWSROOM_REPLICA_WAIT_MS = 200  # other test runs may keep the shared primary busy
    db_router.forget_failures()
    streaming_replica.wait_until_current()
    yield streaming_replica
    db_router.forget_failures()
    if not streaming_replica.is_running():
        streaming_replica.start()
    streaming_replica.resume()
