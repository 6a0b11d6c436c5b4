"""lifeline.api"""
