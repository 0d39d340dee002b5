from ci_tools.cli import entry

entry()
