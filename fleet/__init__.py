"""Fleet: an open-source tracker of who holds the world's AI compute.

Layers (see ../README.md and STYLE.md): config -> db/models -> queries (reads) and
ingest (writes) -> analytics (pure pandas) -> charts (plotly) -> ui (the only streamlit
importer).
"""

__version__ = "0.1.0"
