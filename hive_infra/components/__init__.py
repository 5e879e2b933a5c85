"""The Pulumi components, one per module, and what the program hands them.

``stack.HiveStack`` builds ``secrets.HiveSecrets``, ``postgres.SharedPostgres``,
``database.HiveDatabase`` and ``api.HiveApi``, and the dynamic resources of
``hive_infra.providers``; ``export_values`` gives the exports their shapes,
``user_env`` reads the user's .env files and ``project_dir`` resolves each
API's project folder at program time.
"""
