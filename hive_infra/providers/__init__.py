"""The dynamic providers: EnvFile (a .env file's owned lines), StackLayout (refuses
an unannounced change of isolation), DataBackup (a dump before data is deleted),
ApiHealth (waits for an API container to turn healthy) and ServerGuard (refuses a
PostgreSQL change the kept data cannot take), ``wire`` (the unknowns and secrets of
their inputs) and ``recording`` (what the providers that record their inputs share).

Every stack's state names the module of each provider it pickled: the modules
``hive_infra.envfile``, ``hive_infra.stack_layout``, ``hive_infra.backup`` and
``hive_infra.api_health`` are these modules themselves (each old module puts
the moved one in ``sys.modules`` under its own name, so every name a pickle
references resolves), and stay for as long as a stack made before they moved
may exist (docs/architecture.md).
"""
