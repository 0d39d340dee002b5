"""One module per subcommand; :mod:`ci_tools.cli` discovers them."""
