"""Path localisation (the daemon's ``path:`` section): where a down unit's path breaks; not a scheduled kind."""
