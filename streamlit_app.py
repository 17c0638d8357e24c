"""geoapp's planner app: run with ``streamlit run streamlit_app.py``.

This file stays thin: page setup, the shared sidebar (language, region, basemap) and
the navigation. Each page in ``app_pages/`` calls :mod:`geoapp` and renders.

The file is read twice. ``streamlit run`` finds ``app`` (a ``st.App``) and imports
the file to start the server: that server warms the app's imports while the first
browser loads the page (:mod:`app_pages.preload`). Each visit then runs the file as
``__main__``, which draws the pages.
"""

from __future__ import annotations

import streamlit as st

from app_pages import preload


def _pages() -> list:
    """Return the app's pages, titled in the language chosen in the sidebar."""
    from app_pages import state

    return [
        st.Page(
            "app_pages/overview.py",
            title=state.tr("page_overview"),
            default=True,
        ),
        st.Page(
            "app_pages/coverage.py",
            title=state.tr("page_coverage"),
            url_path="coverage",
        ),
        st.Page(
            "app_pages/compare.py",
            title=state.tr("page_compare"),
            url_path="compare",
        ),
        st.Page(
            "app_pages/heritage.py",
            title=state.tr("page_heritage"),
            url_path="heritage",
        ),
        st.Page(
            "app_pages/scenario.py",
            title="情景推演" if state.lang() == "zh" else "What-if scenario",
            url_path="scenario",
        ),
        st.Page(
            "app_pages/export.py",
            title=state.tr("page_export"),
            url_path="export",
        ),
    ]


def main() -> None:
    """Draw the page a visitor asked for: sidebar, navigation, page, then warm the rest."""
    preload.wait()  # the warm-up's imports are the page's: never two threads at once
    from app_pages import sidebar, state, warm

    # No page or page_icon icons: Streamlit turns the current page's icon into a favicon
    # fetched from fonts.gstatic.com (material icons), and the app must not reach the
    # network.
    st.set_page_config(page_title="geoapp", layout="wide")
    # No warm-up step starts while the page runs (a step already running goes on).
    warm.WARMER.hold(warm.WARM_PAGE_HOLD_S)
    try:
        # this session's temporary folder marked alive; the first run removes ended sessions'
        state.session_folder()
        sidebar.sidebar()
        st.navigation(_pages()).run()
    finally:
        warm.WARMER.release()

    # The page is drawn: fill the other pages' caches in the background (once per region).
    warm.warm_up(*state.current_region())


if __name__ == "__main__":
    main()
else:
    # imported by the server ``streamlit run`` starts: warm it while the first browser loads
    app = st.App(__file__, lifespan=preload.lifespan)
