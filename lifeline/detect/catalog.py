"""The built-in detectors, registered with :mod:`lifeline.detect.registry` on import.

Generic detectors live in :mod:`lifeline.detect`; utility detectors in their utility's folder.
Each ``register`` call below names what the detector watches and its default policy.
"""

from __future__ import annotations
