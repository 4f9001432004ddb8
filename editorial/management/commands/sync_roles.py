from django.core.management.base import BaseCommand

from editorial.roles import GROUP_NAMES, sync_roles


class Command(BaseCommand):
    help = "Create the newsroom's role groups and set their permissions (safe to re-run)."

    def handle(self, *args, **options):
        sync_roles()
        self.stdout.write(self.style.SUCCESS("Roles in sync: " + ", ".join(GROUP_NAMES.values())))
