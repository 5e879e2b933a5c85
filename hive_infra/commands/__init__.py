"""``python -m hive_infra`` commands: ``doctor``, ``status``, ``repair``, ``adopt``,
``db`` and ``migrate``, each declaring one ``COMMAND`` (``contract``), all listed
in ``catalog``. They read a stack through the Pulumi CLI
(``hive_infra.machine.stack_reader``), never its state files, and declare no
resource themselves: ``repair``, which changes a stack, has the Pulumi CLI run
the program (``pulumi up``).
"""
