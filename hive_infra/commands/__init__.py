"""``python -m hive_infra`` commands: ``doctor``, ``status``, ``adopt``, ``db`` and
``migrate``, each declaring its ``Command`` (``contract``). They read a stack
through the Pulumi CLI (``hive_infra.machine.stack_reader``), never its state
files, and never build a resource.
"""
