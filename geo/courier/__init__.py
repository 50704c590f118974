"""Courier and parcel stations: reach, overlaps, grid aggregates and demand inputs."""
