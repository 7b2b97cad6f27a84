"""Architecture guard: only fleet/ui (and app.py) may import streamlit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def non_ui_modules() -> list[str]:
    modules = []
    for path in sorted((ROOT / "fleet").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        if rel.parts[:2] == ("fleet", "ui"):
            continue
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        modules.append(".".join(parts))
    return modules


def test_no_module_outside_fleet_ui_imports_streamlit():
    modules = non_ui_modules()
    assert "fleet.queries" in modules and "fleet.cli" in modules
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    if m != 'fleet.__main__':\n"
        "        importlib.import_module(m)\n"
        "leaked = sorted(k for k in sys.modules if k == 'streamlit' or k.startswith('streamlit.'))\n"
        "print('LEAKED' if leaked else 'CLEAN', leaked[:3])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("CLEAN"), result.stdout


def test_every_table_goes_through_widgets_frame():
    """``fleet.ui.widgets.frame`` shows a missing value as an empty cell; a page calling
    ``st.dataframe`` itself gets Streamlit's "None", which reads as a value."""
    callers = [f"{path.relative_to(ROOT)}:{number}" for path in sorted((ROOT / "fleet").rglob("*.py"))
               for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
               if "st.dataframe(" in line and path != ROOT / "fleet" / "ui" / "widgets.py"]
    assert callers == []
    assert 'placeholder=""' in (ROOT / "fleet" / "ui" / "widgets.py").read_text(encoding="utf-8")
