"""One module per schema type: its RULES table, parse() and the changes() diff walk."""
