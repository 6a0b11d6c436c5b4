"""lifeline.water"""
