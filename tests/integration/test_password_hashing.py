"""The argon2 adapter: real hashes, and a bound on how many run at once in a process."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from shop_adapters.passwords import MAX_CONCURRENT_HASHES, Argon2PasswordHasher


def test_a_hash_verifies_its_password_only() -> None:
    hasher = Argon2PasswordHasher.cheap()
    stored = hasher.hash("correct horse battery")
    assert hasher.verify(stored, "correct horse battery")
    assert not hasher.verify(stored, "wrong horse")
    assert not hasher.verify("not a hash", "correct horse battery")


class _Recording:
    """Stands in for argon2's hasher and records how many calls overlap."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def _work(self) -> None:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.02)
        with self._lock:
            self.running -= 1

    def hash(self, password: str) -> str:
        self._work()
        return "hash"

    def verify(self, password_hash: str, password: str) -> bool:
        self._work()
        return True


def test_a_burst_of_sign_ins_runs_at_most_two_hashes_at_once() -> None:
    recording = _Recording()
    hashers = [Argon2PasswordHasher.cheap(), Argon2PasswordHasher.cheap()]
    for hasher in hashers:
        hasher._hasher = recording  # type: ignore[assignment]  # the 64 MiB part, recorded

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: hashers[i % 2].hash("pw") if i % 3 else
                      hashers[i % 2].verify("hash", "pw"), range(48)))

    assert recording.most == MAX_CONCURRENT_HASHES == 2
