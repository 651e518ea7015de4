"""Rule packs: YAML schema, loader with file:line errors, and the version in force on a date."""

from .loader import RulePackError, default_rules_dir, load_rules
from .ruleset import RuleSet

__all__ = ["RulePackError", "RuleSet", "default_rules_dir", "load_rules"]
