"""Export: the script and, later, the dub in the formats a studio uses."""
