"""lifeline.ingest"""
