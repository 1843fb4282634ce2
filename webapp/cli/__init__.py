"""The `socratic-studio` command line (typer): one module per group of subcommands."""
