"""The inventory: one YAML source of truth for every unit of the three segments."""
