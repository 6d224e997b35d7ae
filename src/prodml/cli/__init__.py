"""The ``prodml`` command line: thin adapters over the Workspace façade."""
