"""Django's JSON serialization, keeping times to the microsecond.

Django's JSON encoder cuts datetimes and times to milliseconds (a JavaScript habit), so
a dumpdata/loaddata round trip would shift every timestamp slightly. Backups use this
format to write; Django's own JSON deserializer reads the full precision back.
"""

import datetime

from django.core.serializers.json import Deserializer  # noqa: F401  (re-exported for loaddata)
from django.core.serializers.json import DjangoJSONEncoder
from django.core.serializers.json import Serializer as JSONSerializer


class PreciseJSONEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime):
            text = o.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        if isinstance(o, datetime.time):
            return o.isoformat()
        return super().default(o)


class Serializer(JSONSerializer):
    def _init_options(self):
        super()._init_options()
        self.json_kwargs["cls"] = PreciseJSONEncoder
