"""lifeline.model"""
