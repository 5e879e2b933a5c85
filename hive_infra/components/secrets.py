"""Component: the stack's secrets, generated unless the configuration supplies them."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_random as random

ADMIN_PASSWORD_LENGTH = 32
DB_PASSWORD_LENGTH = 32
#: The legacy generator's key base was 43 URL-safe characters.
API_KEY_BASE_LENGTH = 43


@dataclass(frozen=True)
class HiveSecretsArgs:
    """Supplied values win; ``None`` means "generate one". ``generate_admin``
    is false where the admin password must come from the user (a server the
    stack does not create)."""

    admin_password: str | None = field(default=None, repr=False)
    db_password: str | None = field(default=None, repr=False)
    api_key_base: str | None = field(default=None, repr=False)
    generate_admin: bool = True


class HiveSecrets(pulumi.ComponentResource):
    """The admin password, the app role's password and the API key base.

    Every output is secret, whether generated (``RandomPassword`` with
    ``special=False``, so URLs and .env files need no escaping) or supplied.
    """

    admin_password: pulumi.Output[str]
    db_password: pulumi.Output[str]
    api_key_base: pulumi.Output[str]

    def __init__(self, name: str, args: HiveSecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hive:index:HiveSecrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        def secret(role: str, supplied: str | None, length: int) -> pulumi.Output[str]:
            if supplied is not None:
                return pulumi.Output.secret(supplied)
            generated = random.RandomPassword(f"{name}-{role}", length=length, special=False, opts=child)
            return pulumi.Output.secret(generated.result)

        if args.admin_password is None and not args.generate_admin:
            raise ValueError("an admin password is required when the stack does not create the server")
        self.admin_password = secret("admin-password", args.admin_password, ADMIN_PASSWORD_LENGTH)
        self.db_password = secret("db-password", args.db_password, DB_PASSWORD_LENGTH)
        self.api_key_base = secret("api-key-base", args.api_key_base, API_KEY_BASE_LENGTH)
        self.register_outputs(
            {
                "admin_password": self.admin_password,
                "db_password": self.db_password,
                "api_key_base": self.api_key_base,
            }
        )
