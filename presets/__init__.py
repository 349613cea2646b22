"""The groove presets shipped with the package (YAML files beside this one)."""
