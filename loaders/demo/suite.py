"""The demo's five source systems, each in the database its source in sources.yaml names."""
from __future__ import annotations

import threading

from sitroom.regions import Gazetteer

from .bulletin import BulletinSim
from .fever_clinics import FeverClinicSim
from .health_commission import HealthCommissionSim
from .marker import claim_for_demo, mark_demo
from .provincial_feed import ProvincialFeedSim
from .transport_supply import TransportSupplySim

BULLETIN_PROVINCE = "610000"
# source whose URL the simulator writes to -> (simulator, tick seconds, days of history)
SYSTEMS = {"hc_cases": (HealthCommissionSim, 2.0, 30), "sx_inflows": (BulletinSim, 3.0, 30),
           "fc_clinics": (FeverClinicSim, 2.0, 31), "ts_points": (TransportSupplySim, 1.0, 14),
           "prov_feed": (ProvincialFeedSim, 5.0, 28)}
# fever clinics: 31 days of history, ESSENCE's 28-day baseline, its 2 guard days and a judged day


def demo_simulators(config, gazetteer: Gazetteer, seed: int | None = None) -> dict[str, object]:
    """source name -> simulator, for each demo system the config has a source for."""
    names = {s.name: s for s in config.sources.sources}
    sims = {}
    for i, (name, (cls, _, _)) in enumerate(SYSTEMS.items()):
        if name not in names:
            continue
        kw = {"seed": None if seed is None else seed + i}
        if cls is HealthCommissionSim and ("sx_bulletin" in names or "prov_feed" in names):
            # one case source per region: Shaanxi's cases come from its bulletin (or its published feed)
            kw["provinces"] = tuple(p for p in gazetteer.province_codes if p != BULLETIN_PROVINCE) or None
        if cls is BulletinSim:
            kw["province"] = BULLETIN_PROVINCE
        if cls is ProvincialFeedSim:   # the published feed is Shaanxi's case source in the demo
            kw["provinces"] = (BULLETIN_PROVINCE,)
        sims[name] = cls(names[name].url, gazetteer, **kw)
    return sims


def backfill_all(sims: dict[str, object]) -> dict[str, int]:
    """Create each schema and write its history (skipped where rows exist); rows written per source.
    Raises NotADemoDatabase, before writing anything, if a configured database is another's."""
    for name, sim in sims.items():   # all checked before anything is written
        claim_for_demo(sim.engine, name)
    out = {}
    for name, sim in sims.items():
        mark_demo(sim.engine)   # first: only these databases may receive drill rows
        sim.create()
        out[name] = sim.backfill(SYSTEMS[name][2])
    return out


def start_all(sims: dict[str, object], stop: threading.Event) -> list[threading.Thread]:
    threads = []
    for name, sim in sims.items():
        t = threading.Thread(target=sim.run, args=(stop, SYSTEMS[name][1]), name=f"sim-{name}", daemon=True)
        t.start()
        threads.append(t)
    return threads
