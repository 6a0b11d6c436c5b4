"""lifeline.incidents"""
