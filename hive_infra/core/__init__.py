"""The pure core: plain values in, plain values out; no Pulumi, no command.

The mode table (``modes``), the one port function (``ports``), every Docker
name, path and container port and the loopback rule (``names``), where each
mode's data lives (``placement``), database URLs, API keys and .env entries
(``rendering``: rendered and parsed), .env text (``dotenv_text``), what a
container's environment can hold (``env_limits``), the API image's tag
(``api_image``), the stack's outputs (``outputs``) and the commands' errors and
exit codes (``errors``). Nothing here imports ``pulumi`` or another hive_infra
package, runs a program or touches a file: that is ``hive_infra.machine``
(an import-linter contract).
"""
