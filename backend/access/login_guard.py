"""Login throttling: a growing back-off per account name and per client address, never a permanent lock.

Pure bookkeeping (no clock, no I/O): the caller passes `now` (seconds, monotonic) to every call, so tests
drive time by hand. Each key (an account name as typed, or a client address) may fail a few times freely;
after that every failure closes it for a delay that doubles up to a cap. While closed, attempts are
refused without checking the password (that is the point: no argon2 work for a guesser) and do not count,
so a key always opens again after at most the cap. A key forgotten `forget_after` seconds after its last
failure starts clean.

Names are throttled whether or not the account exists, so the answers do not tell which names are real.
A success clears the account's record but not the address's: one valid account must not let an address
reset its count between guesses at others.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BackoffPolicy:
    free_failures: int  # failures that cost nothing; each one after them closes the key
    first_delay: float  # seconds closed after the first failure past the free ones
    max_delay: float  # the cap: never closed longer than this after one failure
    forget_after: float  # seconds after the last failure at which the record is dropped

    def delay(self, failures: int) -> float:
        """Seconds closed after `failures` failures (0 while still free)."""
        over = failures - self.free_failures
        if over <= 0:
            return 0.0
        return min(self.max_delay, self.first_delay * 2 ** min(over - 1, 32))


# An account is the target of a guesser; an address may be shared by a team behind one NAT or proxy.
ACCOUNT_POLICY = BackoffPolicy(free_failures=5, first_delay=2.0, max_delay=300.0, forget_after=3600.0)
ADDRESS_POLICY = BackoffPolicy(free_failures=20, first_delay=2.0, max_delay=300.0, forget_after=3600.0)
MAX_KEYS = 10_000  # names and addresses are chosen by the caller: the table must not grow without bound


@dataclass
class _Record:
    failures: int = 0
    last_failure: float = 0.0
    closed_until: float = 0.0


@dataclass
class _Table:
    policy: BackoffPolicy
    records: dict[str, _Record] = field(default_factory=dict)

    def _live(self, key: str, now: float) -> _Record | None:
        record = self.records.get(key)
        if record is not None and now - record.last_failure >= self.policy.forget_after:
            del self.records[key]
            return None
        return record

    def wait(self, key: str, now: float) -> float:
        record = self._live(key, now)
        return max(0.0, record.closed_until - now) if record else 0.0

    def fail(self, key: str, now: float) -> None:
        record = self._live(key, now)
        if record is None:
            self._make_room(now)
            record = self.records[key] = _Record()
        record.failures += 1
        record.last_failure = now
        record.closed_until = now + self.policy.delay(record.failures)

    def clear(self, key: str) -> None:
        self.records.pop(key, None)

    def _make_room(self, now: float) -> None:
        if len(self.records) < MAX_KEYS:
            return
        for key in [
            key for key, r in self.records.items() if now - r.last_failure >= self.policy.forget_after
        ]:
            del self.records[key]
        while len(self.records) >= MAX_KEYS:  # still full: drop the oldest (dicts keep insertion order)
            del self.records[next(iter(self.records))]


class LoginGuard:
    """Throttle state for one server: ask `wait` before checking a password, then report the outcome."""

    def __init__(
        self, account: BackoffPolicy = ACCOUNT_POLICY, address: BackoffPolicy = ADDRESS_POLICY
    ) -> None:
        self._accounts = _Table(account)
        self._addresses = _Table(address)

    def wait(self, *, username: str, address: str, now: float) -> float:
        """Seconds before this name may be tried from this address (0: try now)."""
        return max(self._accounts.wait(username, now), self._addresses.wait(address, now))

    def failed(self, *, username: str, address: str, now: float) -> None:
        self._accounts.fail(username, now)
        self._addresses.fail(address, now)

    def succeeded(self, *, username: str) -> None:
        self._accounts.clear(username)
