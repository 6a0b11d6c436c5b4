"""lifeline.web"""
