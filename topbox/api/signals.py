"""Forget cached token users when their token or user changes."""

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

from topbox.api.authentication import cache_key


@receiver(post_delete, sender=Token)
def forget_deleted_token(sender, instance, **kwargs):
    cache.delete(cache_key(instance.key))


@receiver(post_save, sender=get_user_model())
def forget_changed_user(sender, instance, **kwargs):
    forget_user(instance.pk)


def forget_user(user_id):
    cache.delete_many([cache_key(key) for key in Token.objects.filter(user_id=user_id).values_list("key", flat=True)])
