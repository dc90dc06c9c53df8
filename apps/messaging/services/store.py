def notification_events_flush() -> int:
    return 0
