"""Getting facts into the store: pure parsers of source files (``epoch``, ``reference``),
the seed builder (``seed_build``), catalog upserts (``catalog``) and batch writing (``load``,
``bulk``); CSV imports (``csv_import`` reads, ``validate`` and ``rows`` check and resolve,
``importer`` previews and commits), manual entry (``manual``, ``organisations``), the
audit log (``audit``) and undo (``revert``). Every write takes the acting editor.

Parsers take bytes and return DataFrames plus a report; they never touch a database,
the network or a path they were not given.
"""
