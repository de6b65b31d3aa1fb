"""A client user's scope changes with its membership: forget its cached token user."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from clients.models import ClientMembership
from topbox.api.signals import forget_user


@receiver([post_save, post_delete], sender=ClientMembership)
def forget_member(sender, instance, **kwargs):
    forget_user(instance.user_id)
