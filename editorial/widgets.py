"""Pickers for the story's change page that cost no query per row.

Django's autocomplete select (select2) prints only the chosen option, but looks it up with one
query per picker: on the seed story that is one per photo, byline and 推荐阅读 row. The rows
are read with their chosen photo, person or story already joined (the inlines'
select_related), so `remember_chosen` hands each picker what it shows and the query is
skipped. A picker told nothing (a new row, a form sent back with errors) looks up as before.
"""

from django.contrib.admin.widgets import AutocompleteSelect, RelatedFieldWidgetWrapper


class ChosenAutocompleteSelect(AutocompleteSelect):
    """An autocomplete select that can be told the label of its current choice."""

    chosen = None  # {str(pk): label} for the value the form was built with

    def optgroups(self, name, value, attr=None):
        selected = {str(v) for v in value if str(v) not in self.choices.field.empty_values}
        if not self.chosen or not selected or not selected <= self.chosen.keys():
            return super().optgroups(name, value, attr)
        default = (None, [], 0)
        if not self.is_required and not self.allow_multiple_selected:
            default[1].append(self.create_option(name, "", "", False, 0))
        for pk in sorted(selected):
            default[1].append(self.create_option(name, pk, self.chosen[pk], selected, len(default[1])))
        return [default]


def _picker(field):
    widget = field.widget
    if isinstance(widget, RelatedFieldWidgetWrapper):
        widget = widget.widget
    return widget if isinstance(widget, ChosenAutocompleteSelect) else None


def remember_chosen(form):
    """Tell each picker of a bound-to-a-row form the label of the object its row holds,
    when that object was read with the row."""
    instance = form.instance
    if instance is None or instance.pk is None:
        return
    for name, field in form.fields.items():
        picker = _picker(field)
        if picker is None:
            continue
        model_field = instance._meta.get_field(name)
        if not model_field.is_cached(instance):
            continue
        related = getattr(instance, name)
        if related is not None:
            picker.chosen = {str(related.pk): field.label_from_instance(related)}


class ChosenPickersAdminMixin:
    """For a ModelAdmin or an inline: autocomplete fields use ChosenAutocompleteSelect, and
    the forms it builds tell them what each row holds."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = ChosenAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def with_chosen_pickers(form_class, **attrs):
    """A subclass of `form_class` (with `attrs`) whose pickers are told what its row holds."""

    def __init__(self, *args, **kwargs):
        form_class.__init__(self, *args, **kwargs)
        remember_chosen(self)

    return type(form_class.__name__, (form_class,), {"__init__": __init__, **attrs})
