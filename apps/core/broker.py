"""Messages waiting in the Celery queues, read straight from the broker's Redis.

The dashboard and /metrics ask on every load or scrape, so this is a few LLENs on the
project's broker pool (short timeouts) rather than a kombu connection, whose connect
retries could hold a web request while the broker is away.
"""

from kombu.transport.redis import Channel

import celeryconfig

from .redis import get_redis


def celery_queue_names() -> list[str]:
    return [queue.name for queue in celeryconfig.task_queues]


def celery_queue_lengths() -> dict[str, int]:
    """Queue name -> messages waiting (not yet reserved by a worker); raises redis.RedisError."""
    names = celery_queue_names()
    with get_redis("broker").pipeline(transaction=False) as pipe:
        for name in names:
            for key in _priority_keys(name):
                pipe.llen(key)
        counts = pipe.execute()
    per_queue = len(Channel.priority_steps)
    return {name: sum(counts[i * per_queue : (i + 1) * per_queue]) for i, name in enumerate(names)}


def _priority_keys(queue: str) -> list[str]:
    # kombu keeps a message with priority p > 0 in "<queue>\x06\x16<p>": count those lists too.
    return [queue if step == 0 else f"{queue}{Channel.sep}{step}" for step in Channel.priority_steps]
