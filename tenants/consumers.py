"""WebSocket consumers: a cluster's live status, and the phase badges of the cluster list.

Thin by design: authenticate, authorise with the same rule as the pages, send a snapshot, then
forward the fragments the publisher sends to the tenant's group.
"""

import asyncio
import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import InMemoryChannelLayer
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404

from tenants import informers
from tenants.authorization import Action, tenant_for, visible_tenants
from tenants.live import fragments, logs, snapshot
from tenants.live.publish import LIST_GROUP, LIST_SECTION, LIVE_GROUP, LIVE_SECTION, MESSAGE_TYPE, publisher
from tenants.models import TenantControlPlane
from tenants.services.kube import management_api_client

log = logging.getLogger(__name__)

# Close codes (4000-4999 are the application's): the page explains them instead of reconnecting.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
LOG_FLUSH_SECONDS = 0.25  # at most four log panel renders a second per socket
LIST_PAGE_MAX_CLUSTERS = 500


class FanOutDispatch:
    """Fan-out messages go straight to their handler.

    Channels runs `close_old_connections` before every handler, a hop to the one thread all
    consumers share for database work; a fragment touches no database, and with N sockets on a
    page those hops were the largest cost of delivering one change.
    """

    async def dispatch(self, message):
        if message["type"] == MESSAGE_TYPE:
            await self.live_fragment(message)
        else:
            await super().dispatch(message)


async def _ensure_local_watchers(channel_layer) -> None:
    """With the in-memory layer only this process can publish to its consumers: its informers feed them
    (the same ones its in-process controller holds, if it leads)."""
    publisher.bind_loop(asyncio.get_running_loop())
    if isinstance(channel_layer, InMemoryChannelLayer) and settings.LIVE_WATCHERS_IN_SERVER \
            and not informers.serves_live():
        try:
            await asyncio.to_thread(informers.start_live)
        except Exception as exc:  # no cluster configured: the page still gets DB status
            log.warning("live: cannot start watchers: %s", exc)


class ClusterStatusConsumer(FanOutDispatch, AsyncWebsocketConsumer):
    """`/ws/clusters/<pk>/`: the detail page's phase, conditions, pods, events, endpoint, upgrade, logs."""

    sections = frozenset(fragments.SECTION_TEMPLATES) | {LIVE_SECTION}

    async def connect(self):
        self.group = None
        self.log_subscription = None
        self.log_selected = None
        self.log_pending = None
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        try:
            tenant = await database_sync_to_async(tenant_for)(user, self.scope["url_route"]["kwargs"]["pk"],
                                                              Action.VIEW)
        except Http404:
            await self._refuse(CLOSE_NOT_FOUND)
            return
        except PermissionDenied:
            await self._refuse(CLOSE_FORBIDDEN)
            return
        self.tenant, self.tenant_pk, self.namespace = tenant, tenant.pk, tenant.namespace
        await _ensure_local_watchers(self.channel_layer)
        # Join before the snapshot so no update falls between them (updates queue until connect returns).
        self.group = tenant.ws_group
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.channel_layer.group_add(LIVE_GROUP, self.channel_name)
        await self.accept()
        # List calls (when this process has no watchers) stay off the database thread every consumer shares.
        objects, source = await asyncio.to_thread(snapshot.objects_for, tenant)
        await self.send(text_data=await database_sync_to_async(snapshot.render_snapshot)(
            tenant, objects=objects, source=source))

    async def _refuse(self, code: int) -> None:
        # Accept first: a close code can only be sent on an open socket (a refused handshake is a bare 403).
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self.channel_layer.group_discard(LIVE_GROUP, self.channel_name)
        self._close_logs()

    async def live_fragment(self, event):
        if event["section"] in self.sections:
            await self.send(text_data=event["html"])

    # --- the log panel ------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        try:
            message = json.loads(text_data or "{}")
        except json.JSONDecodeError:
            return
        action = message.get("action")
        if action == "logs.open":
            await self._open_logs(str(message.get("container", "")))
        elif action == "logs.close":
            self._close_logs()
            await self._send_log_panel(lines=[], error="")

    async def _open_logs(self, target: str) -> None:
        self._close_logs()
        # Only a container of this cluster's pods (the request names it; the server decides).
        targets = await asyncio.to_thread(self._log_targets)
        if target not in targets:
            await self._send_log_panel(lines=[], error="No such container in this cluster.")
            return
        pod, container = target.split("/", 1)
        self.log_selected = target
        loop = asyncio.get_running_loop()

        def on_update(lines: list[str], error: str) -> None:  # from the follower's thread
            loop.call_soon_threadsafe(self._schedule_log_flush, lines, error)

        self.log_subscription = await asyncio.to_thread(lambda: logs.follow(
            api_client=management_api_client(), namespace=self.namespace, pod=pod, container=container,
            on_update=on_update, max_lines=settings.LIVE_LOG_LINES,
        ))
        # The panel in its open state (with the lines element the updates then replace).
        await self._send_log_panel(lines=[], error="")

    def _log_targets(self) -> set[str]:
        objects, _ = snapshot.objects_for(self.tenant)
        return fragments.log_targets(self.tenant_pk, objects)

    def _schedule_log_flush(self, lines: list[str], error: str) -> None:
        first = self.log_pending is None
        self.log_pending = (lines, error)
        if first:
            asyncio.get_running_loop().call_later(LOG_FLUSH_SECONDS, lambda: asyncio.ensure_future(self._flush_logs()))

    async def _flush_logs(self) -> None:
        pending, self.log_pending = self.log_pending, None
        if pending is None or self.log_subscription is None:
            return
        lines, error = pending
        if error:
            await self._send_log_panel(lines=lines, error=error)
        else:
            await self.send(text_data=fragments.render_log_lines(lines=lines))

    async def _send_log_panel(self, *, lines: list[str], error: str) -> None:
        selected = self.log_selected if self.log_subscription is not None else None
        await self.send(text_data=fragments.render_log_panel(selected=selected, lines=lines, error=error))

    def _close_logs(self) -> None:
        if self.log_subscription is not None:
            self.log_subscription.close()
        self.log_subscription = None
        self.log_selected = None
        self.log_pending = None


class ClusterListConsumer(FanOutDispatch, AsyncWebsocketConsumer):
    """`/ws/clusters/`: the phase badges of every cluster the user may see, and word when a cluster they
    may see is created or deleted (the page then reloads its table, through the same view and rules)."""

    async def connect(self):
        self.groups_joined = []
        self.user = user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        pks = await database_sync_to_async(self._visible_pks)()
        await _ensure_local_watchers(self.channel_layer)
        await self._follow(pks)
        await self.channel_layer.group_add(LIST_GROUP, self.channel_name)
        await self.accept()
        await self.send(text_data=await database_sync_to_async(snapshot.render_list_snapshot)(pks))

    def _visible_pks(self) -> list[int]:
        return list(visible_tenants(self.user).values_list("pk", flat=True)[:LIST_PAGE_MAX_CLUSTERS])

    async def _follow(self, pks: list[int]) -> None:
        """Be in the groups of exactly these clusters."""
        wanted = [TenantControlPlane(pk=pk).ws_group for pk in pks]
        for group in set(self.groups_joined) - set(wanted):
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in set(wanted) - set(self.groups_joined):
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = wanted

    async def disconnect(self, code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        await self.channel_layer.group_discard(LIST_GROUP, self.channel_name)

    async def live_fragment(self, event):
        if event["section"] == "phase":
            await self.send(text_data=event["html"])
        elif event["section"] == LIST_SECTION:
            await self._list_changed()

    async def _list_changed(self) -> None:
        # The same rule as the page (visible_tenants): a cluster of another organisation changes nothing here.
        pks = await database_sync_to_async(self._visible_pks)()
        if set(pks) == {int(g.rsplit(".", 1)[1]) for g in self.groups_joined}:
            return
        await self._follow(pks)
        await self.send(text_data=fragments.render_list_changed())

