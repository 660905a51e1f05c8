"""Settings for ``bench_live.py --layer pubsub``: channels-redis's pub/sub layer (REDIS_URL).

Compared with the default ``RedisChannelLayer`` (lists and sorted sets, a
round trip per message received), the pub/sub layer pushes each message to
subscribers; the live hub subscribes once per group and process, and gaps are
refilled from the database, so its fire-and-forget delivery is enough.
"""

from sandbox.settings import *  # noqa: F403
from sandbox.settings import REDIS_URL

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
