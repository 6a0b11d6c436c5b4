"""lifeline.datasets"""
