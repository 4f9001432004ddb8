"""What the apps above articles add to the demo site.

`manage.py generate_demo_stories` sends `demo_stories_made` once its stories exist, with
their links and picks, and before it announces them, inside its transaction. Apps higher
up the layers (which articles never imports) connect a receiver to add their own demo
records to those stories: the desk's proofreading and corrections, for instance.

Arguments: `stories` (the Article objects made, published and unpublished), `rng` (the
command's seeded random.Random, so a given --seed gives the same demo), `now`.
"""

from django.dispatch import Signal

demo_stories_made = Signal()
