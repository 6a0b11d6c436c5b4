"""lifeline.scenarios"""
