"""Start Streamlit on the dashboard with the pages' heavy imports done first (a faster first page load)."""

from __future__ import annotations

import gc
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
    import PIL.Image  # noqa: F401  (the page icon)
    import pyarrow.pandas_compat  # noqa: F401  (chart data goes to the browser as Arrow)

    # Streamlit checks once per process, on the first element drawn, whether it runs under `streamlit run`,
    # by walking the call stack with inspect: about 0.2 s of the first analyst's first page. It always does here.
    from streamlit import delta_generator
    delta_generator._use_warning_has_been_displayed = True

    import dashboard.data  # noqa: F401
    import dashboard.render  # noqa: F401
    import index.sqlite  # noqa: F401
    from streamlit.web import cli

    # Streamlit runs a full garbage collection after every script run. Everything imported so far lives as long
    # as the server: moved out of the collector's sight, it is not walked again each time (about 1 s on the
    # first page load, holding the lock the server needs to send the page).
    gc.freeze()

    sys.argv = ["streamlit", "run", str(Path(__file__).with_name("app.py")), *sys.argv[1:]]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
