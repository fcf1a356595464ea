"""Placeholder replaced below."""


class Fidelity:
    pass
