"""Vision experts, one file each (installed as ``vitron_agent.tools``).

Each module imports its heavy library inside ``load``; importing this package imports none of them.
"""
