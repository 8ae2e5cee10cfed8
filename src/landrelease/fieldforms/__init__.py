"""Field data collection: XLSForms generated from the schema, and their submissions read back."""
