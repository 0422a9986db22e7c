"""Every error a user can see.

Each class carries the sentence the user reads (``str(error)``) and the exit code the CLI
returns. The CLI turns them into output in one place (``cli.main``); nothing else prints
errors. Messages never contain secrets: build them from names, paths and codes only.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class AwsloginError(Exception):
    """Base class: a failure the user is told about in one or two plain sentences."""

    exit_code: int = EXIT_FAILURE

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class UsageError(AwsloginError):
    """Raised when the command line or the environment asks for something impossible."""

    exit_code = EXIT_USAGE


class ConfigError(AwsloginError):
    """Raised when the shared config file cannot be read, or a profile cannot be changed."""


class ProfileConflictError(ConfigError):
    """Raised when a profile already holds other credentials, or another login_session."""


class CacheError(AwsloginError):
    """Raised when a token cache file is missing, malformed or incomplete (it is left as is)."""


class LoginRequiredError(AwsloginError):
    """Raised when there is no usable session and only a new `awslogin login` can help."""


class SignInServiceError(AwsloginError):
    """Raised when the Sign-In token endpoint answers with an error.

    ``code`` is the service's `error` field (TOKEN_EXPIRED, INVALID_REQUEST, ...) and
    ``shape`` its `x-amzn-errortype` (AccessDeniedException, ...), for callers that branch.
    """

    def __init__(
        self, message: str, *, code: str = "", shape: str = "", status: int = 0
    ) -> None:
        super().__init__(message)
        self.code = code
        self.shape = shape
        self.status = status


class EndpointUnreachableError(AwsloginError):
    """Raised when the Sign-In endpoint cannot be reached (DNS, refused, timeout, TLS)."""


class LoginCancelledError(AwsloginError):
    """Raised when the user interrupts a login (Ctrl-C, end of input)."""

    exit_code = EXIT_INTERRUPTED


class LoginTimeoutError(AwsloginError):
    """Raised when a login is not completed before its deadline."""


class LoginDeniedError(AwsloginError):
    """Raised when the browser reports an error (the user cancelled, or the request was bad)."""
