def notifications_send_pending() -> int:
    return 0
