"""Lock search and close: the domain. Imports nothing from Slack."""
