"""The proofreading fields of a review step's form on the change page (editorial.proofreading)."""

from django import template

from editorial.proofreading import ProofreadingForm

register = template.Library()


@register.inclusion_tag("editorial/proofreading_fields.html")
def proofreading_fields(article, step):
    """The counts by kind and the characters read, posted with `step` (pass_first_review or sign_off)."""
    return {"form": ProofreadingForm(article=article, auto_id=f"id_{step}_%s"), "step": step}
