"""The scenario language: YAML packs, their loader, the script driver, probes,
perturbations, question banks and automated checks.

Everything here is plain Python with no Django imports, so it can be used by the
runs engine, the management commands and the tests alike. The Django models that
store imported packs live in ``scenarios.models``. See ``docs/scenarios.md``.
"""
