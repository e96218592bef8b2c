"""What every config model shares: strict models, bilingual text, the error type, the warning levels."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict

LEVELS = ("IV", "III", "II", "I")  # China's four warning levels, lowest first
LEVEL_COLOURS = {"IV": "#1e6fd9", "III": "#f2c200", "II": "#f07800", "I": "#d7191c"}
LEVEL_NAMES = {"IV": ("Ⅳ级 一般", "IV Minor"), "III": ("Ⅲ级 较大", "III Serious"),   # (zh, en)
               "II": ("Ⅱ级 重大", "II Major"), "I": ("Ⅰ级 特别重大", "I Extreme")}


class ConfigError(Exception):
    """Invalid configuration; `problems` are 'file: key: what is expected' lines."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    zh: str
    en: str

    def __call__(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh
