"""Rule packs: YAML schema, loader with file:line errors, and the version in force on a date."""

from .loader import RulePackError, load_rules, default_rules_dir
from .ruleset import RuleSet

__all__ = ["RulePackError", "RuleSet", "load_rules", "default_rules_dir"]
