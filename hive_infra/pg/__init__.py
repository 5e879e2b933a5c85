"""Moving the stack's data: what ``db dump``, ``db restore``, ``migrate --from-legacy``
and the backup a destroy takes (``hive_infra.providers.backup``) run.

A dump is a folder (0700) of ``pg_dump -Fc`` archives (0600) and a
``manifest.json`` written last: a folder without one is an incomplete dump.
The manifest records, per database, the modes it belongs to, the server's
version, the exact row count of every table (counted inside the snapshot
pg_dump dumps), the extensions and schemas the archive names, the archive's
sha256 and the pg_dump that wrote it.

Modules, lowest first: ``endpoint`` (where and as whom to connect), ``toc``
(pg_restore's table of contents, filtered), ``manifest`` (the folder and its
manifest), ``checks`` (every refusal, decided before anything is written),
``catalog`` (what a live database holds, through psycopg), ``tools``
(pg_dump/pg_restore: local binaries or ``docker exec`` in a container),
``stack_view`` (the stack's outputs as restore targets), ``dump``,
``restore``, ``legacy_servers`` (finding a legacy install's servers),
``migrate``, and ``retained`` (the databases the stack's own server holds,
which the Pulumi program asks while it runs). The command lines of ``db`` and
``migrate`` are ``hive_infra.commands.db`` and ``hive_infra.commands.migrate``.
"""
