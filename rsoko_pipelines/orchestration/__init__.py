"""Dagster wiring: assets, checks, jobs, the schedule, the sensor, the dbt resource."""
