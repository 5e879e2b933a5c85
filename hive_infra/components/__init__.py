"""The Pulumi components, one per module, and what the program hands them.

``stack.HiveStack`` builds ``secrets.HiveSecrets``, ``postgres.SharedPostgres``,
``database.HiveDatabase`` and ``api.HiveApi``, and the dynamic resources of
``hive_infra.providers``; ``export_values`` gives the exports their shapes.
What the program reads of the machine before (the user's .env files, the
project folders, the build context) is ``hive_infra.machine``'s.
"""
