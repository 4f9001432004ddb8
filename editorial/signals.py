from django.db.models.signals import post_migrate
from django.dispatch import receiver


@receiver(post_migrate)
def keep_roles_in_sync(sender, app_config=None, **kwargs):
    """After any migrate, make the role groups' permissions match editorial.roles.ROLES."""
    if app_config is None or app_config.label != "editorial":
        return
    from .roles import sync_roles

    sync_roles()
