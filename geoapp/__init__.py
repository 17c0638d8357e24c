"""geoapp: geospatial planning and service-coverage analyzer.

Who is within walking reach of elderly care, community services and heritage, and
where the gaps are, above all between the urban core, the new towns and rural areas.
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
