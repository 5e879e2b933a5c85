"""hive-infra: the automagik-hive platform on one machine (see README.md)."""

import pulumi

from hive_infra.components.stack import HiveStack, HiveStackArgs
from hive_infra.config.load import load_config
from hive_infra.core.names import stack_label_value
from hive_infra.core.outputs import OUTPUTS
from hive_infra.machine.image_context import context_digest
from hive_infra.machine.project_dir import ProjectDirError, project_dirs
from hive_infra.machine.project_image import stage_projects
from hive_infra.machine.user_env import UserEnv, UserEnvError, read_user_env
from hive_infra.pg.retained import server_databases

config = load_config()  # validates everything before any resource exists
try:
    # The user's own keys (model-provider keys, ...) for the API containers, and their project folders, checked.
    user_env = read_user_env(config.env_dir, config.mode_table) if config.api_containers else UserEnv()
    api_project_dirs = project_dirs(config.api_project_dir, config.mode_table) if config.api_containers else {}
    # On a cluster each project is baked into an image: its build context staged now, refusals reported.
    projects = stage_projects(api_project_dirs) if config.kubernetes else {}
except (UserEnvError, ProjectDirError) as exc:
    # A RunError: the engine prints its message alone, with no traceback.
    raise pulumi.RunError(str(exc)) from exc
builds_image = config.api_containers and config.builds_api_image
# A mode added back takes over the database its removal left on the stack's own server (pg/retained.py).
stack_label = stack_label_value(pulumi.get_project(), pulumi.get_stack())
on_server = (
    frozenset()
    if config.external
    else server_databases(config.names.postgres_container, config.admin_user, stack_label)
)
hive = HiveStack(
    "hive",
    HiveStackArgs(
        config=config,
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        user_env=user_env,
        # The image's build context, read for its rebuild trigger.
        api_image_digest=context_digest(config.api_version, config.api_base_image) if builds_image else None,
        project_dirs=api_project_dirs,
        projects=projects,
        databases_on_server=on_server,
    ),
)

for output in OUTPUTS:
    if output.platform not in (None, config.platform):
        continue
    value = getattr(hive, output.attribute)
    pulumi.export(output.name, pulumi.Output.secret(value) if output.secret else value)
