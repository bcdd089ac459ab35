"""The embedded in-memory layer: same delivery and expiry as Channels', sweep at most once a second."""

import asyncio

from kamaji_ui.channel_layers import InMemoryChannelLayer


def test_group_delivery_and_expiry_still_work_with_the_sweep_throttled():
    async def scenario():
        layer = InMemoryChannelLayer(expiry=0.2)
        layer.sweep_interval = 0.3
        a, b = await layer.new_channel(), await layer.new_channel()
        await layer.group_add("tenant.1", a)
        await layer.group_add("tenant.1", b)
        await layer.group_send("tenant.1", {"type": "live.fragment", "html": "<p id=x></p>"})
        assert (await layer.receive(a))["html"] == (await layer.receive(b))["html"] == "<p id=x></p>"

        await layer.group_send("tenant.1", {"type": "live.fragment", "html": "late"})
        await asyncio.sleep(0.4)  # past both the message expiry and the sweep interval
        layer._clean_expired()
        # Expired messages are dropped, and (as upstream does) their channels leave the group.
        assert a not in layer.groups.get("tenant.1", {}) and b not in layer.groups.get("tenant.1", {})

    asyncio.run(scenario())


def test_an_expired_message_waits_for_the_next_sweep():
    async def scenario():
        layer = InMemoryChannelLayer(expiry=0.05)
        layer.sweep_interval = 0.5
        layer._clean_expired()  # the sweep of this interval
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "live.fragment"})
        await asyncio.sleep(0.1)  # expired now
        layer._clean_expired()
        assert channel in layer.channels  # not swept again within the interval
        await asyncio.sleep(0.5)
        layer._clean_expired()
        assert channel not in layer.channels

    asyncio.run(scenario())
