"""The command line: `clientele` and its subcommands. Imports the report pipeline and any simulation layer."""
