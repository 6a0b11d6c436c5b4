"""City-scale risk: segment criticality, pipe ageing risk, sensor placement and scale-out.

Modules: :mod:`~lifeline.risk.executors` (in-process / process pool / Dask fan-out),
:mod:`~lifeline.risk.graph` (segments and the one-pass cut-off analysis),
:mod:`~lifeline.risk.networks` (water, gas and power networks as arrays),
:mod:`~lifeline.risk.pdd` (batched pressure-driven EPANET runs), :mod:`~lifeline.risk.criticality`,
:mod:`~lifeline.risk.ageing`, :mod:`~lifeline.risk.layers`, :mod:`~lifeline.risk.placement`,
:mod:`~lifeline.risk.synth` (large synthetic networks) and :mod:`~lifeline.risk.cli`.
"""
