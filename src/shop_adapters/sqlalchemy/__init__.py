"""Persistence over SQLAlchemy 2: tables, repositories, the unit of work and migrations.

The web edge's composition root uses `database.Database` and `migrate.upgrade`; the core
only ever sees the `shop_core.ports` interfaces these implement."""
