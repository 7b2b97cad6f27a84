"""``python -m fleet``: see fleet.cli."""

from fleet.cli import run

if __name__ == "__main__":
    run()
