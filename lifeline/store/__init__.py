"""lifeline.store"""
