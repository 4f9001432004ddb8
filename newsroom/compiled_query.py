"""Querysets built and compiled once per database, then run again with new values.

A story page's main query (five joins, six subqueries returning JSON) costs Django more to
build and compile than it costs PostgreSQL to plan and run: in a profile of 300 story pages,
building the queryset and compiling it were about half of the page's time, the statement
itself a tenth. Those Python objects come out the same for every story; only two values
differ between runs (the story's number and the moment "now").

A CompiledQuery builds its queryset once per database alias with stand-in values for the
names it is given, compiles it, and finds where each stand-in landed among the statement's
parameters. Each run then executes the same statement with the real values in those places,
and turns the rows into model instances as the queryset would (its select_related objects
and annotations included), through the compiler kept from the first build.

The queryset may depend only on the values named. Anything else it reads while being built
(a setting, a row's id such as a content type's) is fixed into the statement for the life of
the process; the builders given here read nothing of the kind. A named value that does not
reach the statement, or two that land in the same place, are refused when the statement is
first compiled, with the name in the message.
"""

import datetime
import itertools
import re
import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models.query import get_related_populators

# Values no real run passes. An integer stays inside 32 bits: Django compiles a lookup on an
# out-of-range integer to an empty or full condition, with no parameter to find.
_INTEGER_STAND_IN = 2_147_480_000
_DATETIME_STAND_IN = datetime.datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=datetime.timezone.utc)


def _adapter(kind):
    if kind == "integer":
        return lambda connection, value: value
    if kind == "datetime":
        return lambda connection, value: connection.ops.adapt_datetimefield_value(value)
    raise ImproperlyConfigured(f"A CompiledQuery parameter is an 'integer' or a 'datetime', not {kind!r}.")


def prepared_statements():
    """Whether PostgreSQL may keep this process's statements prepared on its connections. Off
    (NEWSROOM_READ_MODEL_PREPARED=0) behind a pooler in transaction mode, which hands a
    session's statements to whichever client comes next."""
    return getattr(settings, "NEWSROOM_READ_MODEL_PREPARED", True)


def _numbered(sql):
    """Django's %s placeholders as PostgreSQL's $1, $2, ... (and its %% as %)."""
    counter = itertools.count(1)
    return re.sub(r"%%|%s", lambda match: "%" if match.group() == "%%" else f"${next(counter)}", sql)


class _Statement:
    """One alias's compiled statement and what turns its rows into instances."""

    def __init__(self, compiler, sql, params, positions):
        self.compiler = compiler
        self.sql = sql
        self.params = params
        self.positions = positions
        select, klass_info = compiler.select, compiler.klass_info
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, compiler.using)
        self.annotations = list(compiler.annotation_col_map.items())

    def instances(self, rows, alias):
        for row in self.compiler.results_iter([rows]):
            obj = self.model.from_db(alias, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            yield obj


class CompiledQuery:
    """`build(**values)` returns a queryset of `model`; `parameters` names each value's kind,
    "integer" or "datetime". `list(**values)` runs it (on the alias the routers give for
    reading `model`) and returns the instances; `first(**values)` the first or None."""

    def __init__(self, model, build, *, name=None, **parameters):
        self.model = model
        self.build = build
        # On PostgreSQL a named query is prepared once per connection and then executed: the
        # story's statement took 2.2-3.5 ms to plan and 0.3 ms to run (EXPLAIN ANALYZE, 10k).
        self.name = name
        self.adapters = {name: _adapter(kind) for name, kind in parameters.items()}
        self.kinds = parameters
        self._statements = {}
        self._lock = threading.Lock()

    def _stand_ins(self):
        values, integers = {}, 0
        for name, kind in self.kinds.items():
            if kind == "integer":
                values[name] = _INTEGER_STAND_IN + integers
                integers += 1
            else:
                values[name] = _DATETIME_STAND_IN + datetime.timedelta(seconds=len(values))
        return values

    def _compile(self, alias):
        connection = connections[alias]
        stand_ins = self._stand_ins()
        queryset = self.build(**stand_ins).using(alias)
        if queryset.model is not self.model:
            raise ImproperlyConfigured(f"The query builds {queryset.model.__name__}, not {self.model.__name__}.")
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        params = list(params)
        positions = {}
        for name, value in stand_ins.items():
            adapted = self.adapters[name](connection, value)
            positions[name] = [i for i, param in enumerate(params) if param == adapted]
            if not positions[name]:
                raise ImproperlyConfigured(f"The parameter {name!r} does not reach the compiled statement.")
        taken = [i for found in positions.values() for i in found]
        if len(taken) != len(set(taken)):
            raise ImproperlyConfigured("Two parameters of a CompiledQuery landed in the same place.")
        return _Statement(compiler, sql, params, positions)

    def _statement(self, alias):
        statement = self._statements.get(alias)
        if statement is None:
            with self._lock:
                statement = self._statements.get(alias)
                if statement is None:
                    statement = self._statements[alias] = self._compile(alias)
        return statement

    def forget(self):
        """Compile again on the next run (tests that change the database's vendor or schema)."""
        self._statements.clear()

    def list(self, **values):
        if values.keys() != self.kinds.keys():
            raise TypeError(f"This query takes {sorted(self.kinds)}, not {sorted(values)}.")
        alias = router.db_for_read(self.model)
        statement = self._statement(alias)
        connection = connections[alias]
        params = list(statement.params)
        for name, value in values.items():
            adapted = self.adapters[name](connection, value)
            for position in statement.positions[name]:
                params[position] = adapted
        with connection.cursor() as cursor:
            if self.name and connection.vendor == "postgresql" and prepared_statements():
                self._execute_prepared(connection, cursor, statement, params)
            else:
                cursor.execute(statement.sql, params)
            rows = cursor.fetchall()
        return list(statement.instances(rows, alias))

    def _execute_prepared(self, connection, cursor, statement, params):
        # What this connection has prepared, forgotten with it: a new connection (CONN_MAX_AGE,
        # a reconnect) has a new DB-API object and prepares again.
        raw = connection.connection
        kept = getattr(connection, "_newsroom_prepared", None)
        if kept is None or kept[0] is not raw:
            kept = connection._newsroom_prepared = (raw, {})
        if kept[1].get(self.name) is not statement:
            if self.name in kept[1]:
                cursor.execute(f"DEALLOCATE {self.name}")
            cursor.execute(f"PREPARE {self.name} AS {_numbered(statement.sql)}")
            kept[1][self.name] = statement
        marks = ", ".join(["%s"] * len(params))
        cursor.execute(f"EXECUTE {self.name} ({marks})", params)

    def first(self, **values):
        found = self.list(**values)
        return found[0] if found else None
