"""The stack's outputs, declared once: each one's export name, the ``HiveStack``
attribute that holds it and whether it is a secret.

``__main__.py`` exports them from this table (wrapping the secret ones in
``pulumi.Output.secret``), ``HiveStack`` registers them, and the commands read
them by these names through ``pulumi stack output --json``
(``machine.stack_reader``); the tests' fake ``pulumi`` hides the secret ones as
the real CLI does. README *Outputs* describes each.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StackOutput:
    #: As ``pulumi stack output`` shows it.
    name: str
    #: The ``HiveStack`` attribute (and ``register_outputs`` key) that holds it.
    attribute: str
    secret: bool = False
    #: Exported only on this platform (``kubernetes``); None: on every one.
    platform: str | None = None


POSTGRES = StackOutput("postgres", "postgres")
PORTS = StackOutput("ports", "ports")
SCHEMAS = StackOutput("schemas", "schemas")
DATABASES = StackOutput("databases", "databases")
API_URLS = StackOutput("apiUrls", "api_urls")
ENV_FILE_PATHS = StackOutput("envFilePaths", "env_file_paths")
DATABASE_URLS = StackOutput("databaseUrls", "database_urls", secret=True)
API_KEYS = StackOutput("apiKeys", "api_keys", secret=True)
ENV_FILES = StackOutput("envFiles", "env_files", secret=True)
#: platform=kubernetes only, so that a Docker stack's outputs stay as they were.
NAMESPACE = StackOutput("namespace", "namespace", platform="kubernetes")

#: Every output, in the order ``__main__.py`` exports them.
OUTPUTS: tuple[StackOutput, ...] = (
    POSTGRES,
    PORTS,
    SCHEMAS,
    DATABASES,
    API_URLS,
    ENV_FILE_PATHS,
    DATABASE_URLS,
    API_KEYS,
    ENV_FILES,
    NAMESPACE,
)
SECRET_NAMES: frozenset[str] = frozenset(o.name for o in OUTPUTS if o.secret)
