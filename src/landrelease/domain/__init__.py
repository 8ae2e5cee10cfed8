"""The pure domain core: objects, statuses, workflow rules, the land release ledger.

It imports only the standard library and shapely (geometry as values, no I/O): no database, HTTP or files.
"""
