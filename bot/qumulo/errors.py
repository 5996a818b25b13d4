"""The Qumulo client's exception tree. Every ``requests`` failure becomes one of these.

Messages are written for an admin to act on and never contain a token, password or Authorization header.
"""

from __future__ import annotations


class QumuloError(Exception):
    """Base class: anything that went wrong talking to the cluster."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_class: str | None = None,
        description: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_class = error_class
        self.description = description
        self.endpoint = endpoint

    def __str__(self) -> str:
        return self.message


class QumuloConnectionError(QumuloError):
    """The cluster could not be reached (refused, DNS, reset)."""


class QumuloTimeout(QumuloConnectionError):
    """Connect or read timeout."""


class QumuloTLSError(QumuloConnectionError):
    """TLS handshake or certificate verification failed."""


class QumuloAuthError(QumuloError):
    """401: missing, bad or expired token, or a failed login."""


class QumuloPermissionError(QumuloError):
    """403: the API user lacks an RBAC privilege; ``missing_privileges`` names it when known."""

    def __init__(
        self,
        message: str,
        *,
        missing_privileges: tuple[str, ...] = (),
        status: int | None = None,
        error_class: str | None = None,
        description: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(
            message, status=status, error_class=error_class, description=description, endpoint=endpoint
        )
        self.missing_privileges = missing_privileges


class QumuloNotFound(QumuloError):
    """404: unknown endpoint or object (for example a path that does not exist)."""

    @property
    def object_missing(self) -> bool:
        """The cluster says the file system object does not exist (``fs_no_such_entry_error`` and kin), as
        opposed to a 404 from a proxy, a wrong base path or an unknown endpoint. Qumulo's SDK draws the same line
        (``qumulo.rest.fs``: ``status_code != 404 or error_class != 'fs_no_such_entry_error'``)."""
        return (self.error_class or "").startswith("fs_no_such_")


class QumuloRequestError(QumuloError):
    """Any other 4xx: the cluster rejected the request."""


class QumuloServerError(QumuloError):
    """5xx, after the retries allowed for the request."""


class QumuloProtocolError(QumuloError):
    """The response was not JSON or not the expected shape."""
