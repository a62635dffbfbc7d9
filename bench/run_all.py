"""Runs every benchmark in this folder (`bench_*.py`, each with a `main()`), one after another."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def main() -> int:
    for path in sorted(Path(__file__).parent.glob("bench_*.py")):
        print(f"== {path.stem}", flush=True)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
