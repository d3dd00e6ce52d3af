"""Password hashing with argon2id, the winner of the Password Hashing Competition."""

from __future__ import annotations

import threading

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

# Each hash or check holds `memory_cost` KiB (64 MiB by default) while it runs. On a threaded
# worker a burst of sign-ins would hold that many times over (hundreds of MB); beyond two at
# once a process gains no speed anyway, as each already runs `parallelism` threads.
MAX_CONCURRENT_HASHES = 2
_hashing = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)


class Argon2PasswordHasher:
    """The core's `PasswordHasher` port. The default cost is argon2-cffi's recommended one;
    tests pass a cheaper profile so that they stay fast. At most `MAX_CONCURRENT_HASHES`
    hashes run at once in a process, whatever the number of hashers; the rest wait."""

    def __init__(self, *, time_cost: int = 3, memory_cost: int = 65536,
                 parallelism: int = 4) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )

    @classmethod
    def cheap(cls) -> Argon2PasswordHasher:
        """A fast profile for tests only: never use it for real accounts."""
        return cls(time_cost=1, memory_cost=8, parallelism=1)

    def hash(self, password: str) -> str:
        with _hashing:
            return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            with _hashing:
                return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
