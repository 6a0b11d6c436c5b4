"""lifeline.respond"""
