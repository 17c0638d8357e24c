"""The floor for ``bench_app.py``: the least a Streamlit page with one Folium map costs.

A radio button and one ``st_folium`` map (geoapp's offline base map) holding
``FLOOR_FEATURES`` squares (default 1,337: the demo Coverage map's drawn features) as a
feature group replaced on each change, as the app's Coverage map does. No geoapp
analysis, no cache, no sidebar: what is left of the app's timings above this is the
app's own work. Run by ``bench_app.py``; not part of the package.
"""

from __future__ import annotations

import copy
import os
import random

import folium
import geopandas as gpd
import streamlit as st
from shapely.geometry import box
from streamlit_folium import st_folium

from geoapp import maps

N = int(os.environ.get("FLOOR_FEATURES", "1337"))


@st.cache_resource
def _base():  # one base map, as the app's: the map stays in the browser across reruns
    return maps.base_map(gpd.GeoDataFrame(geometry=[box(24.85, 60.12, 25.05, 60.22)], crs=4326))


choice = st.radio("Squares", ["first", "second"], horizontal=True)
rng = random.Random(1 if choice == "first" else 2)
base = copy.deepcopy(_base())  # st_folium alters the map it renders
features = []
for _ in range(N):
    x, y, d = 24.85 + rng.random() * 0.2, 60.12 + rng.random() * 0.1, 0.002
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    features.append(
        {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
    )
group = folium.FeatureGroup("squares")
folium.GeoJson({"type": "FeatureCollection", "features": features}).add_to(group)
st_folium(
    base,
    feature_group_to_add=group,
    height=600,
    use_container_width=True,
    returned_objects=[],
    key="floor",
)
st.write(f"chosen {choice}")
