"""Each dashboard page's data as pure functions: page id + view state + store -> named tables.

A page module in ``fleet/ui/pages`` draws the tables its view builds; it computes nothing
itself. The same builder serves the app, the CLI (``snapshot export``) and snapshots'
content hash, so what a link, a download and an export show cannot drift apart.

    @register("overview", PARAMS)
    def build(store: Store, filters: Filters, values: dict) -> dict[str, pd.DataFrame]:
        ...

No streamlit here (see tests/test_layers.py).
"""

from fleet.views.base import VIEWS, SessionStore, Store, ViewSpec, build_view, register

__all__ = ["MODULES", "VIEWS", "SessionStore", "Store", "ViewSpec", "build_view", "load_all", "register"]

# The modules that register a page's builder; ``load_all`` imports them (the CLI and the app
# call it) so VIEWS is complete without import-order tricks. Add a page here.
MODULES: tuple[str, ...] = ("overview", "rich_poor", "organisation", "chips", "researchers", "countries")


def load_all() -> dict[str, ViewSpec]:
    import importlib

    for name in MODULES:
        importlib.import_module(f"fleet.views.{name}")
    return VIEWS
