"""Committed batches between server processes, over Redis pub/sub.

Each process publishes the batches it commits and applies the others' (the
registry orders them and catches up from the database on a gap). The channel is
the deployment's Socket.IO channel with a suffix, so two deployments on one Redis
stay apart. The wait forecasts one process makes travel on a second channel of the
same subscription (``on_forecast``; estimates.py).
"""
from __future__ import annotations

import logging
import time

log = logging.getLogger("tabour.transport")


class RedisTransport:
    def __init__(self, url: str, channel: str, on_message, socketio, on_resubscribe=None,
                 on_down=None, on_forecast=None):
        import redis
        self.redis = redis.Redis.from_url(url)
        self.channel = f"{channel}:tabour-batches"
        self.forecasts = f"{channel}:tabour-forecasts"
        self.on_message = on_message
        self.on_forecast = on_forecast
        self.on_resubscribe = on_resubscribe
        self.on_down = on_down
        self.up = False
        socketio.start_background_task(self._listen)

    def publish(self, raw: str) -> None:
        self.redis.publish(self.channel, raw)

    def publish_forecast(self, raw: bytes) -> None:
        self.redis.publish(self.forecasts, raw)

    def _listen(self) -> None:
        first = True
        while True:
            try:
                pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                channels = [self.channel] + ([self.forecasts] if self.on_forecast else [])
                pubsub.subscribe(*channels)
                self.up = True
                if not first and self.on_resubscribe is not None:
                    self.on_resubscribe()  # what was published meanwhile is lost: re-read
                first = False
                forecasts = self.forecasts.encode()
                for msg in pubsub.listen():
                    if msg.get("type") == "message":
                        if msg.get("channel") == forecasts:
                            self.on_forecast(msg["data"])
                        else:
                            self.on_message(msg["data"])
            except Exception as exc:  # Redis restarted: resubscribe; gaps are caught up
                if self.up and self.on_down is not None:
                    self.on_down()  # meanwhile the read model polls the database
                self.up = False
                log.warning("message queue subscription lost (%s): retrying", exc)
                time.sleep(1.0)
