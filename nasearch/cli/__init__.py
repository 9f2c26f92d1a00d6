"""The ``nasearch`` command line."""
