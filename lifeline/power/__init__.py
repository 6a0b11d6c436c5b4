"""lifeline.power"""
