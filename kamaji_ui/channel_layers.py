"""The in-memory channel layer of the embedded default, with a sweep that does not grow with N².

Channels' InMemoryChannelLayer sweeps every channel and every group membership for expiry on
each `receive`; a fan-out to N sockets is N receives, so N² work (profiled with 500 sockets on a
cluster page: about a third of the server's time). Sweeping at most once a second keeps the
same expiry rules (messages 60 s, memberships a day) at constant cost per message.
"""

import time

from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    sweep_interval = 1.0  # seconds

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._last_sweep = 0.0

    def _clean_expired(self):
        now = time.monotonic()
        if now - self._last_sweep >= self.sweep_interval:
            self._last_sweep = now
            super()._clean_expired()
