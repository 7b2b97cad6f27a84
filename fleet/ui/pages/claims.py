"""Claims page (placeholder replaced below)."""
def render():
    pass
