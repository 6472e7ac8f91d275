"""Start Streamlit on the dashboard with the pages' heavy imports done first (a faster first page load)."""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> int:
    """`python -m dashboard.serve [streamlit run options]`: what `prahari dashboard` runs."""
    from streamlit import logger

    # The warm imports below run before Streamlit reads --logger.level: apply it now, so its start-up
    # warnings ("No runtime found …") stay quiet unless prahari dashboard -v asked for the log.
    level = sys.argv[sys.argv.index("--logger.level") + 1] if "--logger.level" in sys.argv[:-1] else "info"
    logger.set_log_level(level.upper())

    import altair  # noqa: F401  (imported here so the first session does not wait for them)
    import pandas  # noqa: F401

    import dashboard.data  # noqa: F401
    import dashboard.render  # noqa: F401
    import index.sqlite  # noqa: F401
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(Path(__file__).with_name("app.py")), *sys.argv[1:]]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
