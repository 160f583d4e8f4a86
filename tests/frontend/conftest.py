import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:  # tools/ is run from the repository root (`python -m tools.openapi_export`)
    sys.path.insert(0, ROOT)
