"""The cassettes recorded for this release: package data, read through ``importlib.resources``.

A regular package (not a namespace one), so that an editable install resolves it to
this one directory.
"""
