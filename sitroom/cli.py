"""The `sitroom` command: db, config, loaders, serve, demo, drill."""
from __future__ import annotations

import functools
import logging
import signal
import sys
import threading
from pathlib import Path

import click

from .config import ConfigError
from .settings import Settings


def common(f):
    """--data-dir / --config-dir on every command; build Settings from them and the environment."""
    @click.option("--data-dir", type=click.Path(path_type=Path), help="Data directory (SITROOM_DATA_DIR).")
    @click.option("--config-dir", type=click.Path(path_type=Path), help="Config directory (SITROOM_CONFIG_DIR).")
    @functools.wraps(f)
    def wrapper(data_dir, config_dir, **kw):
        return f(Settings.from_env(data_dir=data_dir, config_dir=config_dir), **kw)
    return wrapper


def runtime(settings: Settings, upgrade_store: bool = False):
    from .runtime import load_runtime
    try:
        rt = load_runtime(settings)
    except ConfigError as e:
        click.echo(str(e), err=True)
        sys.exit(2)
    if upgrade_store:
        from .store import upgrade
        upgrade(settings.database_url)
    return rt


@click.group()
@click.option("-v", "--verbose", is_flag=True)
def main(verbose: bool) -> None:
    """sitroom: real-time situational awareness for epidemic command centres."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.group()
def db() -> None:
    """The store's schema."""


@db.command("upgrade")
@common
def db_upgrade(settings: Settings) -> None:
    """Create or migrate the store to the latest schema."""
    from .store import upgrade
    upgrade(settings.database_url)
    click.echo(f"store is up to date: {_safe_url(settings.database_url)}")


@main.group()
def config() -> None:
    """Configuration files."""


@config.command("check")
@common
def config_check(settings: Settings) -> None:
    """Validate every config file; print each problem with file and key; exit 2 on any, including each
    problem that would stop a rule from running (an unknown source or region in rules.yaml ...)."""
    from .config_check import deep_problems
    rt = runtime(settings)
    problems, warnings = deep_problems(rt, settings.config_dir)
    for w in warnings:
        click.echo(f"warning: {w}")
    if problems:
        click.echo("\n".join(problems), err=True)
        sys.exit(2)
    click.echo(f"config OK: {settings.config_dir}")


@main.command()
@click.option("--once", is_flag=True, required=True, help="Poll every source once and exit.")
@common
def load(settings: Settings, once: bool) -> None:
    """Poll every source once; print read / inserted / updated / quarantined per source."""
    from loaders.service import LoaderService
    rt = runtime(settings, upgrade_store=True)
    svc = LoaderService(rt.config, rt.gazetteer, settings.database_url)
    failed = False
    try:
        for r in svc.run_once():
            if r.error:
                failed = True
                click.echo(f"{r.source}: ERROR {r.error}")
            else:
                click.echo(f"{r.source}: read {r.read} inserted {r.inserted} updated {r.updated} "
                           f"quarantined {r.quarantined}")
    finally:
        svc.stop()
    sys.exit(1 if failed else 0)


@main.command()
@common
def loaders(settings: Settings) -> None:
    """Run the loader scheduler (polls sources, evaluates rules) until stopped."""
    from loaders.service import LoaderService
    rt = runtime(settings, upgrade_store=True)
    svc = LoaderService(rt.config, rt.gazetteer, settings.database_url)
    svc.start()
    click.echo(f"loaders running: {', '.join(svc.pollers)}")
    _wait_for_stop()
    svc.stop()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True)
@click.option("--threads", default=16, show_default=True, help="Threads for requests.")
@click.option("--push-streams", default=100, show_default=True, type=click.IntRange(1, 5000),
              help="Open screens this server pushes to; each holds a thread of its own besides --threads.")
@common
def serve(settings: Settings, host: str, port: int, threads: int, push_streams: int) -> None:
    """Run the web server (wall page and JSON API)."""
    rt = runtime(settings, upgrade_store=True)
    _run(_listen(rt, host, port, threads, push_streams), host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True)
@click.option("--seed", type=int, default=None, help="Seed of the simulator, for a repeatable demo.")
@common
def demo(settings: Settings, host: str, port: int, seed: int | None) -> None:
    """Simulated sources (four departments' systems), loaders and web server in one process."""
    from loaders.demo.marker import NotADemoDatabase
    from loaders.demo.suite import backfill_all, demo_simulators, start_all
    from loaders.service import LoaderService
    rt = runtime(settings, upgrade_store=True)
    server = _listen(rt, host, port, 16)   # before the history is written: a port in use stops here
    sims = demo_simulators(rt.config, rt.gazetteer, seed=seed)
    try:
        written = backfill_all(sims)
    except NotADemoDatabase as e:
        click.echo(f"sitroom demo refused: {e}", err=True)
        sys.exit(2)
    if any(written.values()):
        click.echo("simulated sources, history written: "
                   + ", ".join(f"{name} {n:,} rows" for name, n in written.items() if n))
    stop = threading.Event()
    threads = start_all(sims, stop)
    svc = LoaderService(rt.config, rt.gazetteer, settings.database_url)
    svc.start()
    _print_demo_accounts(rt, settings, host, port)
    try:
        _run(server, host, port)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5)
        svc.stop()
        click.echo("demo stopped")


@main.command()
@click.option("--region", required=True, help="Prefecture or county: name, pinyin or code (郑州, Zhengzhou, 410100).")
@click.option("--confirmed", type=click.IntRange(1, 100_000), required=True, help="Confirmed cases to report now.")
@common
def drill(settings: Settings, region: str, confirmed: int) -> None:
    """Training drill: write case rows into the demo source database (never into the store)."""
    from loaders.demo.health_commission import HealthCommissionSim
    from loaders.demo.marker import demo_problem
    from .regions import RegionError
    rt = runtime(settings)
    try:
        code = rt.gazetteer.resolve(region)
    except RegionError as e:
        raise click.BadParameter(str(e), param_hint="--region") from None
    url = rt.config.source("hc_cases").url
    why = demo_problem(url)
    if why:   # never drill rows into a real department's database
        click.echo(f"drill refused: {_safe_url(url)} is not a demo source made by `sitroom demo`: {why}", err=True)
        sys.exit(2)
    sim = HealthCommissionSim(url, rt.gazetteer)
    keys = sim.add_cases(code, confirmed)
    click.echo(f"drill: {len(keys)} confirmed cases reported in {rt.gazetteer.get(code).name} ({code})")


@main.group()
def sources() -> None:
    """The source databases of sources.yaml."""


@sources.command("resync")
@click.argument("name")
@common
def sources_resync(settings: Settings, name: str) -> None:
    """Re-read source NAME from the start at its next poll (after its columns changed); idempotent."""
    from .source_actions import UnknownSource, resync
    from .store import make_engine, session_factory
    rt = runtime(settings, upgrade_store=True)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine).begin() as s:
            done = resync(s, rt.config.sources, name)
            from .auth import audit
            audit.record(s, "source.resync", "cli", target=name, address="cli")
    except UnknownSource as e:
        raise click.BadParameter(str(e), param_hint="NAME") from None
    finally:
        engine.dispose()
    click.echo(f"{name}: the next poll re-reads it " + ("from the start" if done.from_start else
                                                       f"from {done.days:g} days back (travel records: as far as "
                                                       "their ledger remembers, so none counts twice)"))


def _print_demo_accounts(rt, settings: Settings, host: str, port: int) -> None:
    from .auth.demo import demo_accounts
    from .store import make_engine, session_factory
    engine = make_engine(settings.database_url)
    try:
        lines = demo_accounts(session_factory(engine), rt.gazetteer, f"http://{host}:{port}")
    finally:
        engine.dispose()
    click.echo("demo accounts (new passwords at every start; log in at /login):\n" + "\n".join(lines))


def _listen(rt, host: str, port: int, threads: int, push_streams: int = 100):
    """The web server, listening; a port it cannot have is said in one line (exit 1)."""
    import errno

    from waitress import create_server

    from dashboard.app import create_app
    from dashboard.server_errors import answer_errors_as_json
    app = create_app(rt, bound_host=host, push_streams=push_streams)
    try:
        # ident "": no Server header naming the product (waitress sends its own name by default);
        # a body larger than any the app takes is refused by waitress before it is read (413)
        cfg = rt.config.dashboard
        # A push stream holds its thread while open (dashboard/push.py): streams get threads of their
        # own, and room for the idle keep-alive connections of every screen's browser.
        server = create_server(app.server, host=host, port=port, threads=threads + push_streams, ident="",
                               max_request_body_size=max(cfg.max_body_bytes, cfg.max_callback_bytes),
                               connection_limit=max(100, 4 * (threads + push_streams)))
        answer_errors_as_json(server)
        server.sitroom_push = app.server.extensions["sitroom_push"]   # what a stop ends first
        return server
    except OSError as e:
        why = ("the port is in use (another sitroom or program); choose another with --port"
               if e.errno == errno.EADDRINUSE else e.strerror or str(e))
        click.echo(f"sitroom cannot listen on http://{host}:{port}/: {why}", err=True)
        sys.exit(1)


def _run(server, host: str, port: int) -> None:
    click.echo(f"sitroom is serving on http://{host}:{port}/", err=False)
    def stop(*_):
        server.sitroom_push.stop()   # open streams end now
        # requests under way finish before the server's wake-up pipe closes (a task ending after it logged
        # "Bad file descriptor")
        server.task_dispatcher.shutdown(timeout=5)
        server.close()

    for sig in (signal.SIGTERM, signal.SIGINT):  # Ctrl-C and a service manager's stop alike
        signal.signal(sig, stop)
    try:
        server.run()
    except OSError:  # the listening socket closed under the loop: that is the stop
        pass
    finally:
        server.sitroom_push.stop()   # open streams end now, not at their next beat
        server.close()


def _wait_for_stop() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


# --------------------------------------------------------------------------- detect
@main.command()
@click.option("--method", type=click.Choice(["ewma", "regression", "switch", "c1", "c2", "c3"], case_sensitive=False),
              required=True, help="ESSENCE's ewma, regression or switch; CDC EARS c1, c2 or c3.")
@click.option("--input", "input_file", type=click.File("r", encoding="utf-8-sig"), required=True,
              help="CSV with date,count (any order; a missing date is a day without a report); - for stdin.")
@click.option("--baseline-days", type=click.IntRange(7, 365), default=28, show_default=True,
              help="ESSENCE's baseline (EARS: always 7).")
@click.option("--guard-days", type=click.IntRange(0, 60), default=2, show_default=True,
              help="Days between the baseline and the judged day (ESSENCE; EARS C2/C3: always 2).")
@click.option("--sd-floor", type=click.FloatRange(min=0), default=0.0, show_default=True, help="EARS: s = max(sd, floor).")
@click.option("--missing", type=click.Choice(["skip", "zero"]), default="skip", show_default=True,
              help="A day without a row: left out (skip) or counted 0.")
def detect(method, input_file, baseline_days, guard_days, sd_floor, missing) -> None:
    """Run one detector over a series; write the rows with baseline_expected, statistic, p_value, alert."""
    import csv

    from .detect_cli import InputError, run
    try:
        header, rows = run(method, input_file, getattr(input_file, "name", "input"), baseline_days, guard_days,
                           sd_floor, missing)
    except InputError as e:
        click.echo(str(e), err=True)
        sys.exit(2)
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)


# --------------------------------------------------------------------------- rules
@main.group()
def rules() -> None:
    """Early-warning rules (config/rules.yaml): check them, replay history with them."""


def _rules_context(settings: Settings):
    """The gazetteer and what rules are checked against, read without rules.yaml itself."""
    from .config import RegionsConfig, SourcesConfig, load_file
    from .regions import load_gazetteer
    problems = []
    regions, p = load_file(settings.config_dir / "regions.yaml", RegionsConfig, settings.env())
    problems += p
    sources, p = load_file(settings.config_dir / "sources.yaml", SourcesConfig, settings.env())
    problems += p
    if problems:
        click.echo("rules cannot be checked until these are fixed:\n  " + "\n  ".join(problems), err=True)
        sys.exit(2)
    gaz = load_gazetteer(tuple(regions.provinces), settings.data_dir / "cache")
    from .rules_load import totals_sources
    context = {"source_names": {s.name for s in sources.sources}, "supply_items": set(sources.supply_items),
               "totals_sources": totals_sources(sources),
               "risk_areas": tuple(regions.risk_areas)}
    return gaz, context


@rules.command("check")
@common
def rules_check(settings: Settings) -> None:
    """Validate rules.yaml: each problem with file, rule and key; exit 2 on problems."""
    from .rules_load import load_rules
    gaz, context = _rules_context(settings)
    path = settings.config_dir / "rules.yaml"
    ruleset, problems, warnings = load_rules(path, gaz, env=settings.env(), **context)
    for w in warnings:
        click.echo(f"warning: {w}")
    if problems:
        click.echo("\n".join(problems), err=True)
        sys.exit(2)
    click.echo(f"rules OK: {len(ruleset.rules)} rules in {path}")


@rules.command("backtest")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First local day.")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last local day.")
@click.option("--rule", "rule_ids", multiple=True, help="Only this rule (repeatable).")
@click.option("--step", type=click.Choice(["auto", "day", "hour"]), default="auto", show_default=True,
              help="Replay day by day or hour by hour (auto: hours for up to 3 days).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the timeline: .html or .png.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@common
def rules_backtest(settings: Settings, first, last, rule_ids, step, out, lang) -> None:
    """Replay stored history with the current rules: when each would have fired, at which level, where."""
    from dataclasses import replace

    from .rules_backtest import backtest, figure, report
    from .rules_load import load_rules
    from .store import make_engine, session_factory, upgrade
    first, last = first.date(), last.date()
    if last < first:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    if out and out.suffix.lower() not in (".html", ".png"):
        raise click.BadParameter("write .html or .png", param_hint="--out")
    gaz, context = _rules_context(settings)
    ruleset, problems, _ = load_rules(settings.config_dir / "rules.yaml", gaz, env=settings.env(), **context)
    if problems:
        click.echo("\n".join(problems), err=True)
        sys.exit(2)
    if rule_ids:
        unknown = sorted(set(rule_ids) - {r.id for r in ruleset.rules})
        if unknown:
            raise click.BadParameter(f"no rule {', '.join(unknown)} in rules.yaml; there are: "
                                     + ", ".join(r.id for r in ruleset.rules), param_hint="--rule")
        ruleset = replace(ruleset, rules=tuple(r for r in ruleset.rules if r.id in rule_ids))
    if step == "auto":
        step = "hour" if (last - first).days < 3 else "day"
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as s:
            episodes = backtest(s, ruleset, gaz, first, last, step)
    finally:
        engine.dispose()
    click.echo(f"backtest {first} .. {last} by {step}, {len(ruleset.rules)} rules: {len(episodes)} alert(s)")
    click.echo("\n".join(report(episodes, gaz, ruleset)))
    if out:
        fig = figure(episodes, gaz, first, last, lang)
        if out.suffix.lower() == ".png":
            try:
                fig.write_image(str(out), width=1600)
            except Exception as e:  # kaleido raises its own errors, e.g. when no Chromium is installed
                click.echo(f"cannot write PNG ({type(e).__name__}: {e}); install chromium, or write .html", err=True)
                sys.exit(1)
        else:
            fig.write_html(str(out), include_plotlyjs=True)  # self-contained: no CDN on a closed network
        click.echo(f"timeline written to {out}")


# --------------------------------------------------------------------------- access control
def _access_commands() -> None:
    from .auth.cli import COMMANDS
    for cmd in COMMANDS:
        main.add_command(cmd)


_access_commands()
