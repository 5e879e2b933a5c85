"""What touches the machine: files, external programs, the Pulumi CLI, the build context.

Locked 0600 file reads and writes (``safe_file``), finding an executable
(``executables``), a deployed stack's outputs through ``pulumi stack output
--json`` (``stack_reader``), the API image's build context read for its digest
(``image_context``), and the program's reads of the user's machine while it
runs: the .env files' keys (``user_env``) and the project folders
(``project_dir``). Below the packages that use it and above the pure core; no
Pulumi: its errors are plain exceptions, which the program raises to Pulumi as
``pulumi.RunError``.
"""
