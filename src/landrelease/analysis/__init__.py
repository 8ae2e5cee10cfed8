"""Analysis and reporting over a database: land release, treaty tables, forecasts."""
