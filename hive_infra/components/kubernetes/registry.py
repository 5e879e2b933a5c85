"""Component: the API image built here, tagged and pushed to ``imageRegistry`` for the cluster.

The push goes through a docker provider of its own (the registry's login is its
``registry_auth``): today's Docker resources keep the default provider, since
moving them to an explicit one would replace them. The docker plugin here has no
``Image`` resource; ``Tag`` names the built image for the registry and
``RegistryImage`` pushes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from hive_infra.core.platform import registry_address


@dataclass(frozen=True)
class RegistryPushArgs:
    #: The built image's local name (``hive-infra/hive-api:<tag>``) and id (a new id pushes again).
    source: pulumi.Input[str]
    source_id: pulumi.Input[str]
    #: ``<imageRegistry>/hive-api:<tag>``: what the pods pull.
    target: str
    user: str | None = None
    password: pulumi.Input[str] | None = field(default=None, repr=False)


class RegistryPush(pulumi.ComponentResource):
    """``target`` in the registry, pushed from the image built here."""

    provider: docker.Provider
    image: docker.RegistryImage
    #: ``target@sha256:...``: the exact image the pods run, so a new push rolls them.
    pinned: pulumi.Output[str]

    def __init__(self, name: str, args: RegistryPushArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hive:index:RegistryPush", name, None, opts)
        # The provider pushes only to a registry it has an entry for: the login, or none (auth_disabled).
        address = registry_address(args.target)
        if args.user is not None:
            login = docker.ProviderRegistryAuthArgs(
                address=address, username=args.user, password=pulumi.Output.secret(args.password)
            )
        else:
            login = docker.ProviderRegistryAuthArgs(address=address, auth_disabled=True)
        self.provider = docker.Provider(
            f"{name}-provider", registry_auth=[login], opts=pulumi.ResourceOptions(parent=self)
        )
        on_provider = pulumi.ResourceOptions(parent=self, provider=self.provider)
        tag = docker.Tag(
            f"{name}-tag",
            source_image=args.source,
            target_image=args.target,
            tag_triggers=[args.source_id],
            opts=on_provider,
        )
        self.image = docker.RegistryImage(
            f"{name}-push",
            name=tag.target_image,
            triggers={"imageId": args.source_id},
            # Kept by a destroy: a registry's images are the registry owner's to prune.
            keep_remotely=True,
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[tag]),
        )
        self.pinned = pulumi.Output.all(self.image.name, self.image.sha256_digest).apply(
            lambda values: f"{values[0].rsplit(':', 1)[0]}@{values[1]}" if values[1] else values[0]
        )
        self.register_outputs({"pinned": self.pinned})
