"""Replaying a whole transaction when SQLite still says "database is locked".

With IMMEDIATE transactions and a busy timeout (settings) a writer waits for the lock instead of
failing; what is left are the cases SQLite answers at once, without its busy handler (a write
after a read in one transaction begun elsewhere, a WAL snapshot that moved, recovery). The unit
replayed is the outermost transaction, never one statement inside it (the transaction is already
broken then) nor an HTTP request (a view may have done more than write the database): a failed
transaction has rolled back everything it wrote and dropped its on_commit hooks, so running it
again is the same as running it once. Inside someone else's transaction there is nothing to
replay here: the error goes up to the one who owns it. PostgreSQL never raises this error.
"""

from functools import wraps

from django.db import OperationalError, connection
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

ATTEMPTS = 4


def is_locked(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and "locked" in str(exc)


def retry_when_locked(func):
    """Decorate a function whose body is (or opens) the outermost transaction: replay it on a lock."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        if connection.in_atomic_block:
            return func(*args, **kwargs)
        retrying = Retrying(retry=retry_if_exception(is_locked), stop=stop_after_attempt(ATTEMPTS),
                            wait=wait_random_exponential(multiplier=0.05, max=1.0), reraise=True)
        return retrying(func, *args, **kwargs)

    return wrapper
