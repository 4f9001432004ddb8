"""`{{ moment|local_time }}`: a time in the newsroom's time zone, the language's way.

See newsroom/local_time.py; `{{ moment|local_time:"seconds" }}` adds the seconds.
"""

from django import template

from newsroom import local_time as times

register = template.Library()


@register.filter
def local_time(value, detail=""):
    return times.local_time(value, seconds=detail == "seconds")
