"""Getting facts into the store: pure parsers of source files (``epoch``, ``reference``),
the seed builder (``seed_build``), catalog upserts (``catalog``) and batch writing (``load``).

Parsers take bytes and return DataFrames plus a report; they never touch a database,
the network or a path they were not given.
"""
