"""Browser test fixtures: the sample database and live server of tests/api."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))

from mapservice_fixtures import (  # noqa: F401
    api_keys,
    client,
    demo_server,
    sample_engine,
    sample_settings,
    server,
)
