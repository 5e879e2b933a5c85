"""Component: a project image: the user's hive project (``apiProjectDir``) as a layer over
the app image, built here from its staged context (``machine.project_image``) and pushed to
``imageRegistry`` like the app image, for pods that cannot bind-mount a folder of this machine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from hive_infra.components.kubernetes.registry import RegistryPush, RegistryPushArgs
from hive_infra.core.platform import pushed_image
from hive_infra.core.project_image import BASE_ARG


@dataclass(frozen=True)
class ProjectImageArgs:
    #: The staged build context (relative to the program's working folder) and the tag naming it.
    context: str
    tag: str
    #: The app image the layer goes on, on this machine: its reference and its id (a new id rebuilds).
    base: str
    base_id: pulumi.Input[str]
    #: ``imageRegistry`` and its login.
    registry: str
    user: str | None = None
    password: pulumi.Input[str] | None = field(default=None, repr=False)
    #: What this image's build waits for: the push before it, so no two pushes run at once.
    after: Sequence[pulumi.Resource] = ()


class ProjectImage(pulumi.ComponentResource):
    """``<imageRegistry>/hive-project:<digest>``: the project baked into the app image, pushed."""

    image: docker.RemoteImage
    push: RegistryPush
    #: ``<registry>/hive-project:<digest>@sha256:...``: what the mode's pods run, so a change rolls them.
    pinned: pulumi.Output[str]

    def __init__(self, name: str, args: ProjectImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hive:index:ProjectImage", name, None, opts)
        self.image = docker.RemoteImage(
            f"{name}-build",
            name=args.tag,
            build=docker.RemoteImageBuildArgs(
                context=args.context,
                build_args={BASE_ARG: args.base},
                label={"org.automagik-hive.image": args.tag},
            ),
            # The tag names the project and the base's tag; a base rebuilt under the same tag is a new id.
            triggers={"baseImageId": args.base_id},
            # Kept by a destroy: another stack on this machine may serve the same project.
            keep_locally=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)),
        )
        self.push = RegistryPush(
            f"{name}-push",
            RegistryPushArgs(
                source=self.image.name,
                source_id=self.image.image_id,
                target=pushed_image(args.registry, args.tag),
                user=args.user,
                password=args.password,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.pinned = self.push.pinned
        self.register_outputs({"pinned": self.pinned})
