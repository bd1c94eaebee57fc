"""Dagster assets: raw landing (one per source), dbt models, publishing."""
