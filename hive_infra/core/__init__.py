"""The pure core: plain values in, plain values out; no Pulumi, no command.

The mode table (``modes``), the one port function (``ports``), every Docker
name, path and container port and the loopback rule (``names``), where each
mode's data lives (``placement``), database URLs, API keys and .env entries
(``rendering``), .env text (``dotenv_text``), atomic locked 0600 file writes
(``safe_file``), the API image's tag (``api_image``), finding an executable
(``executables``) and reading a stack's outputs through the Pulumi CLI
(``stack_reader``). Nothing here imports ``pulumi`` or another hive_infra package.
"""
