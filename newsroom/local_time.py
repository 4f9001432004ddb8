"""Times as a newsroom person reads them: in the newsroom's time zone, the language's way.

Every moment is stored in UTC. Whatever shows one to a person (a form error, a mail, a
list, the history) goes through `local_time`, so 17:52 UTC on 2 December reads
"2026年12月3日 01:52" in Chinese (settings.TIME_ZONE, Asia/Shanghai) and
"Dec. 3, 2026, 1:52 a.m." in English, never the UTC hour or date.
"""

from django.utils import formats, timezone


def local_time(value, seconds=False):
    """`value` (an aware datetime) in settings.TIME_ZONE, in the active language's format.

    `seconds` adds the seconds, for lists where two saves can fall in one minute.
    """
    if not value:
        return ""
    local = timezone.localtime(value, timezone.get_default_timezone())
    if not seconds:
        return formats.date_format(local, "DATETIME_FORMAT")
    return f"{formats.date_format(local, 'DATE_FORMAT')} {formats.time_format(local, 'H:i:s')}"
