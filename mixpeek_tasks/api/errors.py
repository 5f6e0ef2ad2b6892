"""What the Mixpeek client raises: one base class, and one subclass per way a request fails."""

from __future__ import annotations


class MixpeekError(Exception):
    """Base class of everything this client raises."""


class MixpeekAPIError(MixpeekError):
    """The API refused the request in a way retrying cannot fix (400, 401, 403, 404, 422)."""

    def __init__(self, status: int, message: str, error_type: str | None):
        super().__init__(f"Mixpeek API answered {status} ({error_type or 'error'}): {message}")
        self.status = status
        self.error_type = error_type


class MixpeekRequestUnsendable(MixpeekError):
    """The request could not be sent as built (an illegal header, a URL httpx refuses): it
    failed before any byte left the machine, and would fail the same way if retried."""


class MixpeekRetriesExhausted(MixpeekError):
    """A page kept failing with retryable errors until the retry budget was spent."""


class MixpeekUnreachable(MixpeekRetriesExhausted):
    """No connection to the API could be made in any attempt (wrong host, nothing listening)."""


class MixpeekProtocolError(MixpeekError):
    """The API answered, but not in a way keyset paging can trust (e.g. it ignored the sort)."""


class PagingCancelled(Exception):
    """The consumer stopped iterating: a paging worker ends quietly (not an error)."""
