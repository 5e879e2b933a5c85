"""``python -m hive_infra doctor``: is this machine ready for ``pulumi up``?

One line per check, ``ok``, ``FAIL`` or ``warn``, what was checked and, for a
failure, how to fix it: the Pulumi CLI and its version, a passphrase (or a
backend that keeps the secrets), the stack's configuration (read with
``pulumi config --json`` and validated by ``config.parse_config``, as the
program validates it), the Docker engine, containers in the way (legacy hive
containers, a name the stack creates), each port the stack publishes (free on
``bindAddress``, or held by this stack's own containers, so a second ``make
up`` passes) and the free disk space.

``probe`` does all the I/O, ``checks`` judges (pure), ``cli`` wires them and
declares the ``COMMAND`` (exit 1 when a check FAILs).
"""
