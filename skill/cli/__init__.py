"""The `stretch-coach` command: one parser, each cmd_* module registers its subcommands."""
