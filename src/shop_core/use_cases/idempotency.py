"""Idempotency keys: a request repeated with its key gets the answer the first one got.

One mechanism for every request that moves money (placing an order, refunds, voids,
captures). The key is claimed, in a transaction of its own, before the request does
anything; the answer is remembered once the request finished. A repeat with the same
request replays that answer, whatever it was (a failure included); the same key with another
request is an `IdempotencyMismatch`; a repeat while the first is still running is told to
retry shortly. Keys live at least `KEEP_KEYS` and are then pruned."""

from __future__ import annotations

from datetime import timedelta

from attrs import frozen

from shop_core.errors import Conflict, IdempotencyMismatch
from shop_core.ports import Clock, IdempotencyRecord, UnitOfWork

KEEP_KEYS = timedelta(hours=24)
PRUNE_BATCH = 1000


@frozen
class Answer:
    """What a request answered, as its front end rendered it."""

    status: int
    body: str


def claim(uow: UnitOfWork, clock: Clock, user_id: int, key: str,
          fingerprint: str) -> Answer | None:
    """Claim `key` for the request `fingerprint` names: None when this call claimed it (go
    ahead, then `remember`), or the first request's answer to replay."""
    for _ in range(2):  # a concurrent claim may commit between our read and our insert
        with uow:
            record = uow.idempotency_keys.get(user_id, key)
            if record is None:
                if uow.idempotency_keys.add(IdempotencyRecord(user_id, key, fingerprint,
                                                              clock.now())):
                    uow.commit()
                    return None
                continue
        if record.fingerprint != fingerprint:
            raise IdempotencyMismatch(
                "This Idempotency-Key was already used with a different request.")
        if record.status is None or record.body is None:
            raise Conflict("A request with this Idempotency-Key is in progress; "
                           "retry shortly.")
        return Answer(record.status, record.body)
    raise Conflict("A request with this Idempotency-Key is in progress; retry shortly.")


def remember(uow: UnitOfWork, user_id: int, key: str, answer: Answer) -> None:
    with uow:
        uow.idempotency_keys.complete(user_id, key, answer.status, answer.body)
        uow.commit()


def release(uow: UnitOfWork, user_id: int, key: str) -> None:
    """Give up a claim whose request changed nothing (the shop was unavailable)."""
    with uow:
        uow.idempotency_keys.forget(user_id, key)
        uow.commit()


def prune_keys(uow: UnitOfWork, clock: Clock, keep: timedelta = KEEP_KEYS) -> int:
    """Delete keys older than `keep`, a batch per transaction; how many."""
    pruned = 0
    while True:
        with uow:
            done = uow.idempotency_keys.prune(clock.now() - keep, PRUNE_BATCH)
            uow.commit()
        pruned += done
        if done < PRUNE_BATCH:
            return pruned
