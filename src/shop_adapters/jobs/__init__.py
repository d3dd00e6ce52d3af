"""Background jobs on RQ and Redis: the core's `ExpiryScheduler` port."""
