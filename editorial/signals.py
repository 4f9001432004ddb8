from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_migrate
from django.dispatch import receiver

from .roles import ROLES_CACHE_ATTR


@receiver(post_migrate)
def keep_roles_in_sync(sender, app_config=None, **kwargs):
    """After any migrate, make the role groups' permissions match editorial.roles.ROLES."""
    if app_config is None or app_config.label != "editorial":
        return
    from .roles import sync_roles

    sync_roles()


@receiver(m2m_changed, sender=get_user_model().groups.through)
def forget_roles(sender, instance, **kwargs):
    """A user's groups changed: the roles remembered on that object (user_roles) are stale.
    Changed from the group's side (group.user_set), the users are other objects, read afresh."""
    instance.__dict__.pop(ROLES_CACHE_ATTR, None)
