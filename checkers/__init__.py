"""rcucheck's rules: one module per rule, each a small set of hooks on engine events."""
