"""Adapters that implement the core's ports: SQLAlchemy, Paymob, RQ, argon2."""
