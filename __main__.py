"""hive-infra: the automagik-hive platform on one machine (see README.md)."""

import pulumi

from hive_infra.config import load_config
from hive_infra.stack import HiveStack, HiveStackArgs
from hive_infra.user_env import UserEnv, read_user_env

config = load_config()  # validates everything before any resource exists
# The user's own keys (model-provider keys, ...) for the API containers: the program's one read of the machine.
user_env = read_user_env(config.env_dir, config.mode_table) if config.api_containers else UserEnv()
hive = HiveStack(
    "hive",
    HiveStackArgs(config=config, project=pulumi.get_project(), stack=pulumi.get_stack(), user_env=user_env),
)

pulumi.export("postgres", hive.postgres)
pulumi.export("ports", hive.ports)
pulumi.export("schemas", hive.schemas)
pulumi.export("databases", hive.databases)
pulumi.export("apiUrls", hive.api_urls)
pulumi.export("envFilePaths", hive.env_file_paths)
pulumi.export("databaseUrls", pulumi.Output.secret(hive.database_urls))
pulumi.export("apiKeys", pulumi.Output.secret(hive.api_keys))
pulumi.export("envFiles", pulumi.Output.secret(hive.env_files))
