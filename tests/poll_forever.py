"""A loader process for the property test: polls the given sources until it is killed.

    python tests/poll_forever.py SOURCES_JSON STORE_URL NAME...

SOURCES_JSON is sources.yaml as JSON. The test kills it with SIGKILL at a random moment.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from loaders.poller import SourcePoller  # noqa: E402
from sitroom.config import SourcesConfig  # noqa: E402
from sitroom.regions import load_gazetteer  # noqa: E402
from sitroom.store import make_engine, session_factory  # noqa: E402


def main() -> None:
    cfg = SourcesConfig.model_validate(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))
    sessions = session_factory(make_engine(sys.argv[2]))
    gaz = load_gazetteer(("410000", "610000"), Path(sys.argv[1]).parent / "gazetteer")
    pollers = [SourcePoller(s, sessions, gaz, cfg) for s in cfg.sources if s.name in sys.argv[3:]]
    print("polling", flush=True)
    while True:
        for p in pollers:
            p.poll(force=True)


if __name__ == "__main__":
    main()
