"""The demo set-up behind `make run`: the seed story and one account per role.

Demo accounts exist only because this command made them; migrations never
create users. Re-running reuses what exists.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand

from articles.models import Person
from editorial.roles import CHIEF_EDITOR, FIRST_REVIEWER, GROUP_NAMES, REPORTER, RESPONSIBLE_EDITOR, sync_roles

DEMO_PASSWORD = "newsroom-demo"
DEMO_ACCOUNTS = [
    # username, role, name printed on bylines and under stories
    ("reporter", REPORTER, "演示记者"),
    ("reviewer", FIRST_REVIEWER, "演示初审"),
    ("editor", RESPONSIBLE_EDITOR, "演示责编"),
    ("chief", CHIEF_EDITOR, "演示总编"),
]


class Command(BaseCommand):
    help = "Import the seed story and create the demo accounts (password newsroom-demo)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", default=str(settings.BASE_DIR / "seeds" / "000_65fa244611cb5653.txt"))

    def handle(self, *args, **options):
        sync_roles()
        call_command("import_seed", options["seed"], stdout=self.stdout)
        User = get_user_model()
        rows = []
        for username, role, name in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
            if created:
                user.first_name = name
                user.set_password(DEMO_PASSWORD)
            if not user.email:
                # Workflow notices go to the console mail backend by default.
                user.email = f"{username}@example.com"
            user.save()
            user.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
            person = Person.for_user(user)
            rows.append((username, GROUP_NAMES[role], person.name))
        self.stdout.write("")
        self.stdout.write("Demo accounts (password: %s)" % DEMO_PASSWORD)
        for username, group, name in rows:
            self.stdout.write(f"  {username:<10} {group:<8} {name}")
        self.stdout.write("")
