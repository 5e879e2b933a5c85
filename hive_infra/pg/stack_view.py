"""The deployed stack as ``db`` and ``migrate`` see it: each mode's database
and the application role's login to it, from ``pulumi stack output`` (through
``stack_outputs``, as every command reads a stack), never from state files.

Dumps and restores log in as the application role of the mode's URL: it owns
every mode database, so what it restores ends owned by it, and the admin
password (which the outputs do not carry) is never needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hive_infra.core.errors import CommandError
from hive_infra.core.modes import MODE_NAMES
from hive_infra.core.outputs import DATABASE_URLS, DATABASES
from hive_infra.machine.stack_reader import StackOutputs, StackOutputsError, read_stack_outputs
from hive_infra.pg.endpoint import Endpoint
from hive_infra.pg.tools import PgTools, choose_tools

CONTAINER_MODE = "container"


@dataclass(frozen=True)
class StackView:
    stack: str | None
    isolation: str
    #: ``container`` (the stack runs the server) or ``external``.
    postgres_mode: str
    container: str | None
    host: str
    port: int
    #: Deployed modes, in canonical order.
    modes: tuple[str, ...]
    databases: Mapping[str, str]
    endpoints: Mapping[str, Endpoint] = field(repr=False)

    @property
    def label(self) -> str:
        return f"stack {self.stack}" if self.stack else "the selected stack"

    @property
    def server(self) -> str:
        where = f"container {self.container}" if self.container else "external server"
        return f"{self.host}:{self.port} ({where}, isolation={self.isolation})"

    def select(self, requested: Sequence[str] | None) -> tuple[str, ...]:
        """The modes asked for (default: every deployed one), in canonical order."""
        if not requested:
            return self.modes
        missing = [m for m in requested if m not in self.modes]
        if missing:
            raise CommandError(
                f"{self.label} does not deploy mode {', '.join(missing)} (it has {', '.join(self.modes)})"
            )
        return tuple(m for m in self.modes if m in requested)

    def groups(self, modes: Iterable[str]) -> list[tuple[str, tuple[str, ...]]]:
        """``(database, modes)`` pairs: modes sharing one database (isolation=schema) together."""
        grouped: dict[str, list[str]] = {}
        for mode in modes:
            grouped.setdefault(self.databases[mode], []).append(mode)
        return [(db, tuple(ms)) for db, ms in grouped.items()]

    def tools(self, choice: str) -> PgTools:
        """``docker exec`` in the shared container in container mode, else local binaries."""
        container = self.container if self.postgres_mode == CONTAINER_MODE else None
        return choose_tools(choice, container, f"the server of {self.label} ({self.postgres_mode} mode)")

    @classmethod
    def from_outputs(cls, outputs: StackOutputs) -> StackView:
        try:
            postgres = outputs.postgres
            databases = dict(outputs.get(DATABASES.name))
            urls = outputs.get(DATABASE_URLS.name)
        except StackOutputsError as exc:
            raise CommandError(str(exc)) from None
        if not isinstance(urls, Mapping):
            raise CommandError("the stack's databaseUrls are hidden: read them with --show-secrets")
        modes = tuple(m for m in MODE_NAMES if m in databases)
        endpoints = {m: Endpoint.from_url(str(urls[m]), f"databaseUrls.{m} of the stack") for m in modes if m in urls}
        if set(endpoints) != set(modes):
            raise CommandError(
                f"the stack's databaseUrls lack mode(s) {', '.join(sorted(set(modes) - set(endpoints)))}"
            )
        return cls(
            stack=outputs.stack,
            isolation=str(postgres.get("isolation") or "database"),
            postgres_mode=str(postgres.get("mode") or CONTAINER_MODE),
            container=postgres.get("container"),
            host=str(postgres.get("host")),
            port=int(postgres.get("port") or 0),
            modes=modes,
            databases=databases,
            endpoints=endpoints,
        )


def read_stack(stack: str | None) -> StackView:
    """The stack's outputs, secrets shown (the URLs hold the role's password)."""
    try:
        return StackView.from_outputs(read_stack_outputs(stack, show_secrets=True))
    except StackOutputsError as exc:
        raise CommandError(str(exc)) from None
