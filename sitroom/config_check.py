"""What `sitroom config check` finds beyond each file's own schema: problems that need the gazetteer
or another file (a rule naming a source or region that does not exist, an alias to no region)."""
from __future__ import annotations

from pathlib import Path

from .place_names import PlaceNames
from .rules_load import ruleset_from_config


def deep_problems(rt, config_dir: Path) -> tuple[list[str], list[str]]:
    """(problems, warnings), each line naming the file, the rule or source, and the key."""
    _ruleset, problems, warnings = ruleset_from_config(rt.config, rt.gazetteer, Path(config_dir) / "rules.yaml")
    problems = list(problems)
    for i, src in enumerate(rt.config.sources.sources):
        names = PlaceNames(rt.gazetteer, getattr(src, "aliases", {}))
        for alias, error in names.alias_errors.items():
            problems.append(f"sources.yaml: sources[{i}].aliases.{alias}: {error} (source {src.name})")
    return problems, list(warnings)
