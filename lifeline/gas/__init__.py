"""lifeline.gas"""
