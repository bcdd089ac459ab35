"""Status saves reach open pages: after a TenantControlPlane or Upgrade is committed, publish it;
list pages hear of clusters created and deleted."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tenants.models import TenantControlPlane, Upgrade


def _publish_on_commit(tenant_pk: int) -> None:
    from tenants.live.publish import STATUS_SECTIONS, publisher

    transaction.on_commit(lambda: publisher.changed(tenant_pk, STATUS_SECTIONS))


@receiver(post_save, sender=TenantControlPlane, dispatch_uid="live-tenant-status")
def tenant_saved(sender, instance: TenantControlPlane, created: bool = False, **kwargs) -> None:
    _publish_on_commit(instance.pk)
    if created:
        _publish_list_change_on_commit(instance.pk)


@receiver(post_delete, sender=TenantControlPlane, dispatch_uid="live-tenant-deleted")
def tenant_deleted(sender, instance: TenantControlPlane, **kwargs) -> None:
    _publish_list_change_on_commit(instance.pk)


def _publish_list_change_on_commit(tenant_pk: int) -> None:
    from tenants.live.publish import LIST_SECTION, publisher

    transaction.on_commit(lambda: publisher.changed(tenant_pk, (LIST_SECTION,)))


@receiver(post_save, sender=Upgrade, dispatch_uid="live-upgrade-progress")
def upgrade_saved(sender, instance: Upgrade, **kwargs) -> None:
    _publish_on_commit(instance.tenant_id)
