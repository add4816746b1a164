# Generated from tests/_async/__init__.py by tools/run_unasync.py. DO NOT EDIT.
