"""Drainage and waterlogging (排水防涝): ponding forecasts with EPA SWMM and warnings.

Modules: ``io`` (input files), ``model`` (the SWMM model and runs), ``nowcast`` (rain gap
filling and nowcast bias), ``assimilate`` (level sensors against the model), ``ponding`` (the
forecaster a live loop calls every 15 min), ``warn`` (decisions and ``lifeline drainage warn``),
``feed`` (replaying recorded data without peeking), ``cli``.
"""
