"""Moving the stack's data: dumps, restores and migrations of its databases.

A dump is a folder (0700) of ``pg_dump -Fc`` archives (0600) and a
``manifest.json`` written last: a folder without one is an incomplete dump.
The manifest records, per database, the modes it belongs to, the server's
version, the exact row count of every table, the extensions and schemas the
archive names, the archive's sha256 and the pg_dump that wrote it.

This floor is pure: ``errors``, ``endpoint`` (where and as whom to connect),
``versions``, ``manifest`` (the folder and its manifest), ``toc``
(pg_restore's table of contents, filtered for a restore as the application
role) and ``checks`` (every refusal, decided before anything is written).
"""
