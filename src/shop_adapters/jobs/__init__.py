"""Background duties on RQ and Redis: order expiry jobs, the workers that run them, and the
sweep that expires what the queue lost."""
