"""The zone chart: settlement classes, and layers without facilities in the data."""

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd

from geoapp.charts import zone_comparison_chart
from geoapp.styles import zone_color


def _rows(group: str, status: str, share: float) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "layer": "x",
                group: z,
                "share_demand_300": share,
                "share_demand_1000": share,
                "target_radius_m": 1000.0,
                "target_share": 0.85,
                "status": status,
                "layer_label": "Clinics",
                "layer_label_zh": "诊所",
            }
            for z in ("core", "new_town", "rural")
        ]
    )


def test_chart_by_settlement():
    fig = zone_comparison_chart(_rows("settlement", "ok", 0.5))
    ax = fig.axes[0]
    assert len(ax.patches) == 6  # 3 classes x 2 radii
    assert mcolors.to_hex(ax.patches[0].get_facecolor()) == zone_color("core")
    assert [p.get_height() for p in ax.patches] == [0.5] * 6


def test_chart_says_no_facilities_instead_of_zero_coverage():
    for lang, words in (("en", "No facilities in the data"), ("zh", "数据中没有此类设施")):
        fig = zone_comparison_chart(_rows("zone_type", "no_data", np.nan), lang=lang)
        texts = [t.get_text() for t in fig.axes[0].texts]
        assert any(words in t for t in texts)
        assert all(p.get_height() == 0 for p in fig.axes[0].patches)
