"""API test fixtures (defined in mapservice_fixtures.py, shared with tests/browser)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from mapservice_fixtures import (  # noqa: F401
    api_keys,
    client,
    demo_server,
    sample_engine,
    sample_settings,
    server,
)
