"""Committed batches between server processes, over Redis pub/sub.

Each process publishes the batches it commits and applies the others' (the
registry orders them and catches up from the database on a gap). The channel is
the deployment's Socket.IO channel with a suffix, so two deployments on one Redis
stay apart.
"""
from __future__ import annotations

import logging
import time

log = logging.getLogger("tabour.transport")


class RedisTransport:
    def __init__(self, url: str, channel: str, on_message, socketio, on_resubscribe=None,
                 on_down=None):
        import redis
        self.redis = redis.Redis.from_url(url)
        self.channel = f"{channel}:tabour-batches"
        self.on_message = on_message
        self.on_resubscribe = on_resubscribe
        self.on_down = on_down
        self.up = False
        socketio.start_background_task(self._listen)

    def publish(self, raw: str) -> None:
        self.redis.publish(self.channel, raw)

    def _listen(self) -> None:
        first = True
        while True:
            try:
                pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                self.up = True
                if not first and self.on_resubscribe is not None:
                    self.on_resubscribe()  # what was published meanwhile is lost: re-read
                first = False
                for msg in pubsub.listen():
                    if msg.get("type") == "message":
                        self.on_message(msg["data"])
            except Exception as exc:  # Redis restarted: resubscribe; gaps are caught up
                if self.up and self.on_down is not None:
                    self.on_down()  # meanwhile the read model polls the database
                self.up = False
                log.warning("message queue subscription lost (%s): retrying", exc)
                time.sleep(1.0)
