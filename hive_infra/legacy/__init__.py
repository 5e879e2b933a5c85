"""What hive-infra knows of a legacy install (three docker-compose files, three
containers, three databases): its .env files (``env_files``), its containers
(``containers``), its PostgreSQL data folder (``data_dir``) and the error of
what cannot be taken over (``errors``). Shared by ``adopt``, ``db``/``migrate``
and ``doctor``.
"""
