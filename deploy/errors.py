"""Every error the deploy tool raises on purpose; the CLI prints them and exits.

    DeployError                 exit 1  (anything that went wrong against the server)
     ├─ UsageError              exit 2  bad command-line input
     ├─ ManifestError           exit 2  the manifest is wrong; carries every problem found
     ├─ SettingsError           exit 2  credentials or target cannot be resolved
     ├─ BundleError             exit 2  an action's source cannot be zipped
     │   └─ DependencyError     exit 2  (deploy.dependencies) a dependency spec cannot be read or built
     ├─ PreflightError          exit 2  the plan cannot work on this server (runtimes, limits, refs)
     ├─ ApplyError              exit 1  a plan stopped part-way, or the read-back differs
     │   └─ ApplyFailed         exit 1  (deploy.apply) some changes failed; keeps the report for --json
     ├─ WaitTimeout             exit 1  (deploy.follow) an activation did not appear or end in time
     └─ OpenWhiskError          exit 1  the server answered an error (method, url, status, text)
          ├─ AuthError          exit 1  401 / 403
          ├─ NotFoundError      exit 1  404
          ├─ ConflictError      exit 1  409
          ├─ ThrottledError     exit 1  429
          └─ ConnectError       exit 1  the server cannot be reached

``tests/unit/test_error_trees.py`` holds this drawing to the classes.

Messages say where, what was expected, what was found and how to fix it, on one
line (ManifestError: one line per problem). They never contain the API key:
``client`` strips credentials from every URL and text it puts into an error.
Anything else that escapes to the CLI is a bug and keeps its traceback.
"""

from __future__ import annotations


class DeployError(Exception):
    """Root of the tree; ``exit_code`` is what the CLI returns."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(DeployError):
    """The command line itself is wrong."""

    exit_code = 2


class ManifestError(DeployError):
    """The manifest is invalid; ``problems`` holds every one found, in file order."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(
            _listed(f"the manifest has {count} problem{'s' if count != 1 else ''}:", self.problems)
        )


class SettingsError(DeployError):
    """Target or credentials cannot be resolved."""

    exit_code = 2


class BundleError(DeployError):
    """An action's source cannot be packed (missing, escaping symlink, too large)."""

    exit_code = 2


class DependencyError(BundleError):
    """An action's requirements.txt / package.json cannot be read, resolved or built for
    its runtime (a package with no wheel for the target, no lockfile, npm failed)."""


class PreflightError(DeployError):
    """The plan would fail on this server; found before any write."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(_listed("preflight found problems, nothing was changed:", self.problems))


class ApplyError(DeployError):
    """A plan stopped part-way; the message lists what was applied and what was not."""


class OpenWhiskError(DeployError):
    """The server answered with an error status."""

    def __init__(
        self,
        method: str,
        url: str,
        status: int | None,
        text: str,
        code: str | None = None,
        hint: str = "",
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.text = text
        self.code = code
        where = f"{method} {url}"
        what = f"HTTP {status}: {text}" if status is not None else text
        tail = f" ({hint})" if hint else ""
        super().__init__(f"{where} failed: {what}{tail}")


class AuthError(OpenWhiskError):
    """401/403: the key is wrong or not allowed in this namespace."""


class NotFoundError(OpenWhiskError):
    """404 where the entity had to exist."""


class ConflictError(OpenWhiskError):
    """409: the entity exists or was changed concurrently."""


class ThrottledError(OpenWhiskError):
    """429 after every retry."""


class ConnectError(OpenWhiskError):
    """The server cannot be reached at all."""


def _listed(head: str, problems: list[str]) -> str:
    """A head line, then one ``  - problem`` line each: every problem found, at once."""
    return "\n".join([head, *(f"  - {p}" for p in problems)])
